"""Users acting in the M&E tests (the repository checks their roles on the server)."""

from mmicd.auth import Role, User

PLANNER = User("planner", Role.REVIEWER, id=1)
REVIEWER = User("reviewer", Role.REVIEWER, id=2)
TASK_FORCE = User("task force reviewer (demo)", Role.REVIEWER, id=3)
ANALYST = User("analyst", Role.ANALYST, countries="NPL", id=4)
OTHER_ANALYST = User("sam", Role.ANALYST, countries="SEN", id=5)
VIEWER = User("vic", Role.VIEWER, id=6)
MINISTRY = User("ministry", Role.REVIEWER, id=7)
ADMIN = User("root", Role.ADMIN, id=8)
