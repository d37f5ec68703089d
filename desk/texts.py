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
            "• /start 重新开始  • /help 查看帮助  • /complain 投诉\n"
            "• 发送「转人工」或点击按钮联系工作人员\n"
            "• /mydata 领取我们保存的您的数据  • /forget 申请删除"
        ),
        "en": (
            "I can answer questions about orders, delivery, returns, refunds, invoices, membership, "
            "stores and repairs.\n"
            "• Just type your question\n"
            "• /start to begin again  • /help for this help  • /complain to file a complaint\n"
            '• Send "human" or press the button to reach a person\n'
            "• /mydata for a copy of your data  • /forget to have it erased"
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
    # The complaint reply follows the seeds' model: acknowledge and sympathise, the ticket number,
    # what happens next, and by when.
    "complaint_ack": {
        "zh": (
            "非常抱歉给您带来了不愉快的体验，感谢您告诉我们，我们非常重视。\n"
            "您的投诉已登记，工单号 {number}（{cause}）。\n"
            "负责的工作人员会在这里直接与您联系，并承诺在 {due} 前给您处理结果。\n"
            "您可以继续在这里补充情况或发送照片，我们都会转给负责的同事。"
        ),
        "en": (
            "We are very sorry about this experience, and thank you for telling us: we take it seriously.\n"
            "Your complaint is registered as ticket {number} ({cause}).\n"
            "A member of our team will contact you right here, and we promise you an outcome by {due}.\n"
            "You can add details or photos here at any time; they go straight to the person in charge."
        ),
    },
    "handoff_ack": {
        "zh": (
            "好的，已为您转接人工客服，工单号 {number}。\n"
            "工作人员会尽快在这里回复您，最迟在 {due} 前给您答复。您可以继续在这里描述您的问题。"
        ),
        "en": (
            "Sure, a member of our team will take over: ticket {number}.\n"
            "They will reply here as soon as possible, at the latest by {due}. Feel free to describe your question."
        ),
    },
    # Out of business hours the promise stays, but nobody pretends a person is there now.
    "away": {
        "zh": (
            "现在是非工作时间，工作人员将于 {back} 上班，届时会第一时间处理。"
            "在此期间您在这里留下的消息都会保留并转给负责的同事，常见问题我也可以继续为您解答。"
        ),
        "en": (
            "Our team is away right now and back at {back}, when your case comes first. "
            "Meanwhile everything you write here is kept for them, and I can still answer common questions."
        ),
    },
    "handoff_away": {
        "zh": "好的，已为您登记人工服务，工单号 {number}，最迟在 {due} 前给您答复。",
        "en": "Sure, a member of our team will take over: ticket {number}, with an answer by {due} at the latest.",
    },
    "reopened_ack": {
        "zh": (
            "非常抱歉问题还没有解决好。您的工单 {number} 已重新打开，"
            "工作人员会在这里继续跟进，并承诺在 {due} 前给您处理结果。"
        ),
        "en": (
            "We are sorry the problem is not solved yet. Ticket {number} is open again; "
            "our team will follow up here and promises you an outcome by {due}."
        ),
    },
    "resolved": {
        "zh": "您的问题（工单 {number}）已处理完毕：{resolution}\n\n请为本次服务打分（1 分很不满意，5 分非常满意）：",
        "en": (
            "Your issue (ticket {number}) has been resolved: {resolution}\n\n"
            "Please rate our service (1 poor – 5 excellent):"
        ),
    },
    "resolved_plain": {
        "zh": "您的问题（工单 {number}）已处理完毕。\n\n请为本次服务打分（1 分很不满意，5 分非常满意）：",
        "en": "Your issue (ticket {number}) has been resolved.\n\nPlease rate our service (1 poor – 5 excellent):",
    },
    "rated_good": {
        "zh": "感谢您的评分！欢迎您随时再来，有任何问题都可以在这里找我们。",
        "en": "Thank you for your rating! You are always welcome back; we are here whenever you need us.",
    },
    "rated_low": {
        "zh": "非常抱歉没能让您满意。您的评价已转给负责人，我们会尽快联系您，把事情做好。",
        "en": "We are sorry we did not satisfy you. Your rating went to the manager in charge; we will contact you.",
    },
    "spooled": {
        "zh": "收到您的消息了！系统正在短暂维护，您的消息已保存，我们会尽快回复您，请稍候。",
        "en": "We have your message! Our system is briefly busy; your message is saved and we will answer shortly.",
    },
    "forget_requested": {
        "zh": "您删除个人数据的请求已登记，经理确认后我们会删除您的聊天记录和资料，完成后会通知您。",
        "en": "Your request to erase your data is registered; once a manager confirms, we delete your "
        "messages and profile and let you know.",
    },
    "erased": {
        "zh": "您的个人数据和聊天记录已按您的要求删除。",
        "en": "Your personal data and messages have been erased as you asked.",
    },
    "my_data": {
        "zh": "这是我们保存的您的数据（个人资料、聊天记录、工单和标签），UTF-8 编码的 JSON 文件。",
        "en": "Here is the data we hold about you (profile, messages, tickets and tags), as a UTF-8 JSON file.",
    },
    "my_data_again": {
        "zh": "您今天已经领取过一次数据副本了。每天可以领取一次，{day} 起可以再次申请。",
        "en": "You already received a copy of your data today. One copy a day: you can ask again from {day}.",
    },
    "erased_by_shop": {
        "zh": "我们已删除您在本店客服的个人数据和聊天记录。",
        "en": "We have erased your personal data and messages with our customer service.",
    },
    "slow_down": {
        "zh": "您的消息我们都收到了，请稍等片刻，我们会逐条处理。",
        "en": "We have all your messages; please give us a moment to work through them.",
    },
    "held_ack": {
        "zh": "收到，已转给{who}（工单 {number}），我们承诺在 {due} 前给您处理结果。",
        "en": "Got it: passed on to {who} (ticket {number}); we promise you an outcome by {due}.",
    },
    "already_with_person": {
        "zh": (
            "您的问题已经在人工处理中（工单 {number}，{who}），不用再次转接，"
            "直接在这里留言即可，最迟 {due} 前给您答复。"
        ),
        "en": (
            "Your case is already with a person (ticket {number}, {who}); no need to ask again, just write here. "
            "You will have an answer by {due} at the latest."
        ),
    },
    "held_nobody_yet": {"zh": "值班的工作人员", "en": "our team"},
    "held_away": {
        "zh": "现在是非工作时间，工作人员将于 {back} 上班后处理。",
        "en": "Our team is away right now and back at {back}.",
    },
    "held": {
        "zh": "您的问题（工单 {number}）正由工作人员处理，直接在这里留言即可，他们会在这里回复您。",
        "en": "A member of our team is handling your case (ticket {number}); just write here and they will reply here.",
    },
    # Before an answer written in the other language (the matcher reads English messages against a Chinese
    # FAQ): the customer knows why, and that a person can help in their language.
    "answer_in_other_language": {
        "zh": "这个问题我们目前只有英文说明，如需中文帮助请点「转人工」：",
        "en": 'We only have this answer in Chinese for now; press "Talk to a person" for help in English:',
    },
    "button_human": {"zh": "🙋 转人工", "en": "🙋 Talk to a person"},
    "button_complain": {"zh": "📝 投诉", "en": "📝 Complaint"},
    "button_solved": {"zh": "✅ 已解决", "en": "✅ Solved"},
}


def say(key: str, language: str, **values: object) -> str:
    """The sentence `key` in `language` (Chinese when we have no such translation)."""
    variants = TEXTS[key]
    template = variants.get(language) or variants["zh"]
    return template.format(**values) if values else template
