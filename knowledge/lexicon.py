"""Small language tables the matcher needs: stop words and a traditional → simplified folding table.

They live in code rather than data files so the package needs no package-data configuration.
"""

from knowledge.traditional import SIMPLIFIED, TRADITIONAL


def _word_set(text: str) -> frozenset[str]:
    """Tables below are written as whitespace-separated words: easy to read and extend."""
    return frozenset(text.split())


# Words that only carry politeness or grammar. Interrogatives that carry intent
# (多少 "how much", 哪里 "where", 为什么 "why", 什么时候 "when", 几 "how many") are kept on purpose.
CHINESE_STOP_WORDS = _word_set(
    """
    的 了 吗 呢 吧 啊 呀 哦 嘛 啦 哈 嗯 喔 哟 呐 么 之 得 地 着 过
    请问 请 问 问下 问一下 想问 想问下 麻烦 麻烦你 谢谢 多谢 感谢 你好 您好 在吗 您 你 你们 我 我们 我的
    咱 咱们 他 她 它 他们 本人 自己 想 想要 要 需要 一下 下 是 在 有 和 与 及 或 或者 就 都 也 还 又 再 这 那
    这个 那个 这些 那些 个 能 能不能 可以 可不可以 可否 会 怎么 怎么样 怎样 如何 咋 怎么办 应该 该 吗
    是否 是不是 有没有 一个 一些 关于 对于 因为 所以 但是 可是 然后 如果 的话 现在 目前 已经 刚刚 刚才
    """
)

ENGLISH_STOP_WORDS = _word_set(
    """
    a an the is are was were be been am do does did how what which who whom i me my we our you your he she it
    its they them to of for in on at by with from and or but if so can could would should will shall may
    might please hi hello hey thanks thank there here this that these those any some about as into up
    """
)

STOP_WORDS = CHINESE_STOP_WORDS | ENGLISH_STOP_WORDS

# Traditional characters folded to simplified so a customer writing 帳戶 finds the entry written 帐户: the
# full character table (knowledge.traditional), then these hand-checked pairs for customer-service text,
# which also settle the few characters the table leaves alone (於 → 于, 麽 → 么). Pairs are "traditional
# simplified".
_TRADITIONAL_SIMPLIFIED_PAIRS = """
們们 個个 來来 時时 為为 說说 國国 會会 對对 學学 點点 這这 過过 還还 樣样 開开 關关 問问 題题 號号
碼码 帳帐 賬账 戶户 單单 費费 際际 務务 經经 動动 電电 話话 網网 頁页 設设 計计 認认 證证 確确 錢钱
銀银 轉转 與与 則则 應应 該该 實实 現现 麼么 幾几 給给 買买 賣卖 換换 貨货 運运 輸输 聯联 繫系 請请
謝谢 讓让 準准 備备 詢询 優优 額额 儲储 記记 錄录 紀纪 態态 處处 間间 預预 約约 達达 變变 發发 據据
條条 連连 結结 線线 綫线 機机 構构 幫帮 須须 無无 擊击 價价 購购 訂订 總总 註注 冊册 員员 積积 資资
訊讯 歡欢 並并 專专 屬属 長长 門门 車车 東东 見见 親亲 觀观 氣气 裡里 裏里 後后 鐘钟 幣币 萬万 億亿
歲岁 體体 舊旧 當当 從从 習习 書书 區区 縣县 鄉乡 覺觉 頭头 愛爱 聽听 讀读 寫写 錯错 難难 雙双 種种
類类 選选 擇择 項项 報报 稅税 權权 標标 險险 產产 狀状 況况 節节 級级 係系 義义 議议 師师 傳传 廣广
場场 壞坏 熱热 醫医 藥药 療疗 濟济 歷历 壓压 劃划 勞劳 協协 卻却 參参 雖虽 離离 顯显 風风 飛飞 館馆
驗验 髮发 鬆松 黃黄 啟启 啓启 圖图 團团 圓圆 執执 復复 複复 夠够 嚴严 獎奖 將将 尋寻 導导 層层 庫库
廳厅 張张 彈弹 彙汇 匯汇 徵征 憑凭 戰战 掃扫 掛挂 損损 擔担 擴扩 攜携 敗败 數数 斷断 暫暂 術术 棄弃
業业 極极 樂乐 樓楼 檢检 歸归 沒没 滿满 營营 獨独 獲获 環环 畢毕 盡尽 監监 礎础 禮礼 稱称 穩稳 競竞
筆笔 範范 簡简 簽签 籤签 紅红 紙纸 細细 終终 組组 統统 綁绑 維维 綜综 緊紧 練练 縮缩 績绩 繳缴 續续
罰罚 聲声 職职 臺台 舉举 號号 補补 裝装 製制 規规 視视 覽览 觸触 託托 訪访 許许 評评 試试 詳详 誤误
調调 談谈 論论 諮咨 講讲 識识 護护 負负 貴贵 貸贷 貼贴 賠赔 質质 贈赠 趕赶 軟软 載载 輕轻 輛辆 輪轮
邊边 郵邮 釋释 鈔钞 銷销 鎖锁 鍵键 閉闭 閱阅 闆板 陸陆 隊队 階阶 隨随 隱隐 雲云 靈灵 順顺 領领 頻频
顧顾 餘余 櫃柜 臉脸 嗎吗 語语 譯译 圍围 園园 僅仅 兒儿 內内 兩两 凍冻 剛刚 創创 勝胜 塊块 頂顶 顏颜
願愿 飲饮 養养 寶宝 審审 寬宽 帶带 廢废 慣惯 撥拨 擁拥 於于 曆历 殺杀 淺浅 測测 漲涨 潔洁 煩烦 畫画
異异 眾众 衆众 糧粮 納纳 絕绝 編编 緣缘 繼继 聰聪 脫脱 腳脚 臨临 葉叶 蓋盖 薦荐 藍蓝 蘋苹 訓训 討讨
詞词 誠诚 誰谁 課课 諾诺 財财 販贩 貿贸 賀贺 賞赏 賺赚 贏赢 軍军 較较 輔辅 輯辑 辦办 週周 進进 遊游
違违 遠远 適适 遲迟 遺遗 錶表 鍋锅 鏈链 鑰钥 閃闪 陣阵 陳陈 隻只 靜静 響响 頓顿 顆颗 饋馈 馬马 駕驾
騙骗 驚惊 鮮鲜 齡龄 啟启 壽寿 戶户 讚赞 償偿 劵券 箇个 麽么 纔才
"""

TRADITIONAL_TO_SIMPLIFIED = dict(zip(TRADITIONAL, SIMPLIFIED, strict=True)) | {
    pair[0]: pair[1] for pair in _TRADITIONAL_SIMPLIFIED_PAIRS.split() if len(pair) == 2 and pair[0] != pair[1]
}
