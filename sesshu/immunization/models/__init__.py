"""予防接種台帳 models, one module per part of the work (each with its own migration).

base: vaccines, the vaccination record, move-in history checks
schedule: what the schedule engine needs stored (長期療養特例, campaigns)
notices: extraction batches, notices and reminders (接種券・予診票・勧奨通知)
records: the full record items, masters (products, lots, clinics, doctors), imports
certificates: 予防接種済証 and 接種証明書 (SMART Health Cards), their register and revocation
"""

from .base import *  # noqa: F403
from .certificates import *  # noqa: F403
from .imports import *  # noqa: F403
from .notices import *  # noqa: F403
from .records import *  # noqa: F403
from .schedule import *  # noqa: F403
