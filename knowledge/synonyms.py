"""Everyday customer-service words that mean the same thing, so a customer and an FAQ meet across them.

Customers write 更改 where the FAQ says 变更, 丢了 where it says 遗失, 登录 where it says 登入. Each group
below names one everyday intent in the words people use for it in any shop, dealer or bank; nothing in it
belongs to one business. The matcher indexes a word's group as one more word next to the word itself, so
an exact match still counts for more than a synonym.
"""

from __future__ import annotations

from collections.abc import Sequence


def _groups(text: str) -> dict[str, str]:
    """One group per line, written as words separated by spaces; the first word names the group."""
    table: dict[str, str] = {}
    for line in text.strip().splitlines():
        words = line.split()
        for word in words:
            table[word] = "§" + words[0]  # a term no text can contain: groups never collide with words
    return table


SYNONYM_GROUPS = _groups(
    """
    修改 更改 变更 更换 改变 更正 修正 改成 改为
    申请 申办 办理 开办
    开通 启用 开启 激活 启动
    查询 查看 查找 查阅 查一下 查查
    取消 撤销 撤消 注销 停用 终止 解约 退订
    关闭 关掉 停掉
    遗失 丢失 丢了 不见 丢掉 弄丢 掉了
    费用 收费 花费 价钱 价格 多少钱
    电话 专线 热线 电话号码
    多久 多长时间 几天 多少天 多长
    何时 什么时候 几时 哪天 几号 啥时候
    地址 住址 地点 位置 在哪 哪里
    登录 登入 登陆 登不进去 登不上
    密码 口令
    退款 退钱 退费 退回
    帐户 账户 帐号 账号 户头
    帐单 账单 对帐单 对账单
    网络 网路
    信息 资讯 讯息 消息
    付款 支付 付费 缴费 缴款
    手机 行动电话 移动电话 手机号
    优惠 折扣 打折 促销 活动
    条件 资格 要求 门槛
    方法 方式 步骤 流程 办法
    失败 不成功 不了 无法 不能用
    故障 坏了 坏掉 损坏 异常
    客服 人工 专人 真人 服务人员
    到期 过期 期满
    收到 到帐 到账 入帐 入账
    发票 收据 凭证
    快递 物流 配送 送货
    """
)
SYNONYM_WORDS = frozenset(SYNONYM_GROUPS)


def with_synonyms(words: Sequence[str]) -> list[str]:
    """The words, each followed by its synonym group's name when it has one."""
    found = []
    for word in words:
        found.append(word)
        if (group_name := SYNONYM_GROUPS.get(word)) is not None:
            found.append(group_name)
    return found
