"""Risk: the limits a trader sets per account, the rules that enforce them on every entry, the
loss guards, and position sizing."""
