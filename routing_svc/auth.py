"""Who may call the hub: admins write the directory, keys and rules; coordinators (and admins) read and decide."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, require_roles
from shared.domain import Role

AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffDep = Annotated[Principal, Depends(require_roles(Role.admin, Role.coordinator))]
