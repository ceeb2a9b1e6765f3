"""What a submission names that the hub does not know: it is taken all the same (no wrong door), and the answer says
so, so that a channel can tell the reporter. The hub flags such a case for its coordinators on its own."""

from __future__ import annotations

from intake_svc.categories.known import KnownCategories
from intake_svc.complaints.schemas import SubmissionWarning, SubmitRequest, WarningCode
from shared.reference.regions import regions


async def submission_warnings(request: SubmitRequest, categories: KnownCategories) -> list[SubmissionWarning]:
    found: list[SubmissionWarning] = []
    if request.category and not await categories.is_known(request.category):
        found.append(
            SubmissionWarning(
                code=WarningCode.unknown_category,
                field="category",
                message=f"kategori {request.category!r} tidak dikenal, laporan tetap diterima dan akan ditelaah"
                f" koordinator; category {request.category!r} is not known, the report is accepted and a coordinator"
                " will look at it",
            )
        )
    if request.region_code and not regions().is_known(request.region_code):
        found.append(
            SubmissionWarning(
                code=WarningCode.unknown_region,
                field="region_code",
                message=f"kode wilayah {request.region_code} bukan kode Kemendagri yang dikenal, laporan tetap"
                f" diterima; region code {request.region_code} is not a known Kemendagri code, the report is accepted",
            )
        )
    return found
