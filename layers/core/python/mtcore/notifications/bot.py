"""The Telegram bot's commands. A chat is linked to its user by `/start <code>` (the code the
dashboard got); a linked chat may ask `/status`, `/positions`, `/halt [account]`,
`/resume [account]` and `/help`. Nothing else can trade from Telegram, and a chat that is not
linked gets a polite refusal and nothing else.

Commands are taken in private chats only: in a group, every member could halt or resume the
accounts of whoever linked it. The operator's chat of a single-operator deployment speaks for
that operator, when the deployment has exactly one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mtcore.errors import DomainError
from mtcore.notifications.messages import figure, money
from mtcore.observability import logger
from mtcore.trading import HaltRequest, halt_account, resume
from mtcore.trading import status as risk_status

if TYPE_CHECKING:
    from mtcore.accounts import Account
    from mtcore.notifications.delivery import Recipients
    from mtcore.notifications.telegram import TelegramBot
    from mtcore.trading import TradeDesk

HELP = (
    "Commands:\n"
    "/status: your accounts, equity, today's P&L, halted or not\n"
    "/positions: open positions\n"
    "/halt [account]: refuse new positions (all accounts, or the one named)\n"
    "/resume [account]: take new positions again\n"
    "/help: this list"
)
GROUPS_REFUSED = "Commands work in a private chat with this bot only: open it and send /help there."
REFUSAL = (
    "This chat is not linked to a MetaTrader backend account. Link it from the dashboard's "
    "notification settings (Telegram, then Link), and open the link it gives you."
)


@dataclass
class Bot:
    recipients: Recipients
    desk: TradeDesk
    bot: TelegramBot

    def handle(self, update: dict[str, Any]) -> None:
        message = update.get("message") or update.get("edited_message") or {}
        chat = message.get("chat") or {}
        chat_id, text = chat.get("id"), message.get("text")
        if not isinstance(chat_id, int) or not isinstance(text, str) or not text.startswith("/"):
            return
        if chat.get("type") != "private":
            self.bot.send(chat_id, GROUPS_REFUSED)
            return
        command, _, argument = text.strip().partition(" ")
        command = command.split("@", 1)[0].lower()  # "/status@SomeBot" in groups
        if command == "/start":
            self.bot.send(chat_id, self._start(chat_id, argument.strip()))
            return
        user_id = self.recipients.user_of(chat_id)
        if user_id is None:
            self.bot.send(chat_id, REFUSAL)
            return
        logger.info("telegram command", extra={"command": command})
        answers = {
            "/status": self._status,
            "/positions": self._positions,
            "/halt": self._halt,
            "/resume": self._resume,
        }
        answer = answers.get(command)
        self.bot.send(chat_id, answer(user_id, argument.strip()) if answer else HELP)

    def _start(self, chat_id: int, code: str) -> str:
        if not code:
            return REFUSAL if self.recipients.user_of(chat_id) is None else HELP
        if self.recipients.notifications.redeem(code, chat_id, datetime.now(UTC)) is None:
            return "That link has been used or has expired: ask the dashboard for a new one."
        return f"This chat is linked: notifications arrive here.\n\n{HELP}"

    def _accounts(self, user_id: str) -> list[Account]:
        return self.desk.accounts.list_for_user(user_id, limit=100, next_token=None).items

    def _named(self, user_id: str, name: str) -> list[Account]:
        accounts = self._accounts(user_id)
        if not name:
            return accounts
        wanted = name.lower()
        return [a for a in accounts if a.id.lower() == wanted or a.name.lower() == wanted]

    def _status(self, user_id: str, _: str) -> str:
        lines = []
        for account in self._accounts(user_id):
            state = "halted" if account.trading_halted else account.provisioning_status.value.lower()
            try:
                status = risk_status(user_id, account.id, desk=self.desk)
            except DomainError:
                lines.append(
                    f"{account.name}: {state}, equity {money(account.equity, account.currency)} "
                    "(as last synced)"
                )
                continue
            lines.append(
                f"{account.name}: {state}, equity {money(status.equity, status.currency)}, "
                f"today {money(status.today_pnl, status.currency)}"
            )
        return "\n".join(lines) or "You have no accounts yet."

    def _positions(self, user_id: str, _: str) -> str:
        lines = []
        for account in self._accounts(user_id):
            for position in self.desk.positions.list_open(account.id):
                side = position.type.removeprefix("POSITION_TYPE_").lower()
                lines.append(
                    f"{account.name}: {position.symbol} {side} {figure(position.volume)} at "
                    f"{figure(position.open_price)}, P&L {money(position.profit, account.currency)}"
                )
        return "\n".join(lines) or "No open positions."

    def _halt(self, user_id: str, name: str) -> str:
        accounts = self._named(user_id, name)
        for account in accounts:
            halt_account(account, HaltRequest(flatten=False, reason="halted from Telegram"), desk=self.desk)
        return _done("Halted", accounts, name)

    def _resume(self, user_id: str, name: str) -> str:
        accounts = self._named(user_id, name)
        for account in accounts:
            resume(user_id, account.id, desk=self.desk)
        return _done("Resumed", accounts, name)


def _done(what: str, accounts: list[Account], name: str) -> str:
    if not accounts:
        return f"No account named {name}." if name else "You have no accounts yet."
    return f"{what}: {', '.join(account.name for account in accounts)}"
