"""Every sentence the desk says, Chinese first and English too. Placeholders use str.format."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "zh": (
            "您好，欢迎来到{business}！我是智能客服助手。\n"
            "直接输入您的问题即可，例如：「怎么退货」「退款多久到账」「怎么开发票」。\n"
            "随时可以点击「转人工」联系工作人员。"
        ),
        "en": (
            "Hello, welcome to {business}! I am the customer-service assistant.\n"
            'Just type your question, for example: "how do I return an item" or "refund time".\n'
            'You can reach a person at any time with "Talk to a person".'
        ),
    },
    "help": {
        "zh": (
            "我可以回答订单、配送、退换货、退款、发票、会员积分、门店和维修等问题。\n"
            "• 直接输入问题，例如「快递怎么还没到」\n"
            "• /start 重新开始  • /help 查看帮助\n"
            "• 发送「转人工」或点击按钮联系工作人员"
        ),
        "en": (
            "I can answer questions about orders, delivery, returns, refunds, invoices, membership, "
            "stores and repairs.\n"
            "• Just type your question\n"
            "• /start to begin again  • /help for this help\n"
            '• Send "human" or press the button to reach a person'
        ),
    },
    "unknown_command": {
        "zh": "抱歉，我不认识这个命令。",
        "en": "Sorry, I do not know that command.",
    },
    "greeting": {
        "zh": "您好！请问有什么可以帮您？直接输入您的问题就好。",
        "en": "Hello! How can I help you? Just type your question.",
    },
    "thanks": {
        "zh": "不客气！还有其他问题随时问我。",
        "en": "You are welcome! Ask me anything else at any time.",
    },
    "empty": {
        "zh": "您好像发送了一条空消息。请输入您的问题，或点击「转人工」。",
        "en": "Your message looks empty. Please type your question, or talk to a person.",
    },
    "suggest": {
        "zh": "我不太确定您想问的是哪一个，请选择最接近的问题：",
        "en": "I am not sure which of these you mean; please pick the closest question:",
    },
    "no_answer": {
        "zh": "抱歉，我暂时没有找到这个问题的答案。您可以换个说法再问一次，或点击「转人工」由工作人员为您解答。",
        "en": "Sorry, I could not find an answer to that. Try asking in other words, or talk to a person.",
    },
    "handoff": {
        "zh": "好的，已为您转接人工客服，工作人员会尽快在这里回复您（人工服务时间：每天 9:00–21:00）。",
        "en": "Sure, a member of our team will reply to you here as soon as possible (daily 9:00–21:00).",
    },
    "solved": {
        "zh": "很高兴能帮到您！还有其他问题随时问我。",
        "en": "Glad I could help! Ask me anything else at any time.",
    },
    "stale_button": {
        "zh": "这个选项已经失效了，请重新输入您的问题。",
        "en": "That option is no longer available; please type your question again.",
    },
    "media": {
        "zh": "收到！我目前只能看懂文字消息。请用文字描述您的问题，或点击「转人工」由工作人员查看。",
        "en": "Got it! I can only read text for now. Please describe your question in words, or talk to a person.",
    },
    "button_human": {"zh": "🙋 转人工", "en": "🙋 Talk to a person"},
    "button_solved": {"zh": "✅ 已解决", "en": "✅ Solved"},
}


def say(key: str, language: str, **values: object) -> str:
    """The sentence `key` in `language` (Chinese when we have no such translation)."""
    variants = TEXTS[key]
    template = variants.get(language) or variants["zh"]
    return template.format(**values) if values else template
