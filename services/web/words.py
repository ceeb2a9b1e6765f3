"""The plain words the pages use for the API's codes: kinds of report, statuses, and refusals."""

from __future__ import annotations

from services.web.i18n import N_

CLASSIFICATIONS: dict[str, tuple[str, str]] = {
    "pengaduan": (
        N_("A complaint"),
        N_("A public service let you down or did you harm, and you want it put right."),
    ),
    "aspirasi": (
        N_("A suggestion"),
        N_("You have an idea to make a public service better."),
    ),
    "permintaan_informasi": (
        N_("A request for information"),
        N_("You want information that a government office holds."),
    ),
    "wbs": (
        N_("Whistleblowing"),
        N_("You report corruption or wrongdoing by a public official. It is always anonymous and confidential."),
    ),
}

STATUSES: dict[str, tuple[str, str]] = {
    "submitted": (N_("Received"), N_("We have your report and are checking it.")),
    "postponed": (N_("Waiting for you"), N_("We need more information from you. Reply below.")),
    "rejected": (N_("Closed"), N_("Your report was not taken further.")),
    "dispositioned": (N_("Sent to an agency"), N_("Your report was sent to the agency responsible for it.")),
    "in_progress": (N_("Being handled"), N_("The agency is working on your report.")),
    "answered": (N_("Answered"), N_("The agency has answered. Read the answer, then rate it or dispute it.")),
    "completed": (N_("Finished"), N_("Your case is finished.")),
    "archived": (N_("Archived"), N_("Your case is finished and archived.")),
}

REPORT_FIELD_ERRORS: dict[str, str] = {
    "classification": N_("Choose what kind of report this is"),
    "category": N_("Choose a category from the list"),
    "region_code": N_("Choose a region from the list"),
    "title": N_("Enter a short title for your report, in 200 characters or fewer"),
    "content": N_("Tell us what happened, in 20,000 characters or fewer"),
    "incident_date": N_("Enter the date it happened as a real date that is not in the future, for example 27/3/2026"),
    "reporter.name": N_("Enter your name in 200 characters or fewer"),
    "reporter.email": N_("Enter an email address in the right form, like name@example.id"),
    "reporter.phone": N_("Enter a mobile phone number, like 0812 3456 7890"),
}
PHONE_NOT_ACCEPTED = N_("Only Indonesian mobile numbers (starting 08 or +62 8) can be used")

FILE_REFUSALS: dict[str, str] = {
    "payload_too_large": N_("The file is too big: each file must be 10 MB or smaller."),
    "unsupported_media_type": N_(
        "This kind of file is not accepted. Send photos (JPEG, PNG, WebP), PDF, plain text, or Word, Excel,"
        " PowerPoint or OpenDocument files."
    ),
    "attachment_limit_reached": N_("The case already has as many files as it can take (10 files, 50 MB in all)."),
    "empty_file": N_("The file is empty."),
    "image_too_large": N_("The picture is too large (too many pixels). Send a smaller picture."),
    "invalid_image": N_("The picture could not be read. It may be damaged."),
    "scanner_unavailable": N_(
        "Files cannot be scanned for viruses right now. Add this file later from your case page."
    ),
    "illegal_transition": N_("This case is closed: no more files can be added."),
    "rate_limited": N_(
        "Too many requests from your connection. Wait a few minutes and add the file from your case page."
    ),
    "invalid_multipart": N_("The file could not be read. Try again."),
}
FILE_REFUSED = N_("The file could not be added. Try again from your case page.")

SUBMIT_REFUSALS: dict[str, str] = {
    "rate_limited": N_("Too many reports from your connection. Wait a few minutes, then send the form again."),
    "payload_too_large": N_("The report is too long. Shorten the description and send it again."),
    "idempotency_key_mismatch": N_(
        "This form was already sent once with different details. If you did not get a tracking number, send it again."
    ),
    "idempotency_key_in_use": N_("This form is still being sent. Wait a moment, then look for your tracking number."),
}
NOT_SENT = N_("Your report has not been sent. Check it and try again.")
API_DOWN = N_("The service is not available right now. Nothing was sent. Try again in a few minutes.")
MAYBE_RECEIVED = N_(
    "The service did not answer in time. Your report may have been received. Send the form again: it will not be"
    " received twice, and you will get your tracking number."
)

CASE_NOT_FOUND = N_("We could not open a case with that tracking number and receipt. Check both and try again.")
TOO_MANY_TRIES = N_("Too many tries from your connection. Wait 15 minutes, then try again.")

REPLY_REFUSALS: dict[str, str] = {
    "illegal_transition": N_("This can no longer be done: the case has moved on. Reload the page to see where it is."),
    "already_rated": N_("You have already rated this answer."),
    "message_limit": N_("This case cannot take more messages."),
    "rate_limited": N_("You have sent many messages in a short time. Wait a while, then try again."),
    "payload_too_large": N_("The message is too long."),
}
