"""Notifications: Telegram and email for trades, closes, risk and disconnects, as each user's
preferences say (models.py, preferences.py, repository.py); what a trader reads (messages.py);
one event to one channel, once (delivery.py) through Telegram's Bot API (telegram.py) or SES
(email.py); the bot's commands from linked chats (bot.py); and the daily summary (summary.py)."""
