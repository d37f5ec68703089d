"""What the desk understood a contact to be; stored on every contact so reports can group by it."""

from enum import StrEnum


class Intent(StrEnum):
    WELCOME = "welcome"
    HELP = "help"
    UNKNOWN_COMMAND = "unknown_command"
    GREETING = "greeting"
    THANKS = "thanks"
    EMPTY = "empty"
    ANSWERED = "answered"
    SUGGESTED = "suggested"
    NO_ANSWER = "no_answer"
    PICKED = "picked"
    SOLVED = "solved"
    HANDOFF = "handoff"
    COMPLAINT = "complaint"
    # A message in a chat staff hold: copied to the staff topic, not answered by the bot.
    RELAYED = "relayed"
    # The bot's short note to a customer writing to a held ticket: who has it, by when.
    ACKNOWLEDGED = "acknowledged"
    RATED = "rated"
    STAFF_REPLY = "staff_reply"
    # A staff member corrected a message the customer already has (the customer's copy is edited).
    STAFF_EDIT = "staff_edit"
    FORGET = "forget"
    # The customer asked for their own copy of what we hold about them.
    MY_DATA = "my_data"
    # Recorded, but not answered: the customer was sending faster than anyone can read.
    FLOODED = "flooded"
    STALE_BUTTON = "stale_button"
    MEDIA = "media"
