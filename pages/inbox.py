"""Inbox: what awaits the signed-in user, with a link to where to act."""

from mmicd.ui import auth, store
from mmicd.ui import inbox as inbox_ui

s = store()
inbox_ui.page(s, auth.current_user(s))
