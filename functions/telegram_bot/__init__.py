"""The Telegram bot's webhook: links chats and answers their commands."""
