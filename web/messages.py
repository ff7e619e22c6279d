"""Human messages for domain error codes, in the user's language."""

from __future__ import annotations

from web.i18n import gettext as _


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it yet."""
    return message

# Every code a service may raise; the .po catalogue carries their Norwegian text.
_MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "login_failed": N_("Wrong username or password."),
    "login_locked": N_("Too many failed logins. The account is locked for up to an hour."),
    "login_throttled": N_("Too many failed logins. Wait a little and try again."),
    "totp_failed": N_("The code is wrong or has expired. Try the newest code from your app."),
    "totp_already_enrolled": N_("Two-factor authentication is already set up."),
    "password_too_short": N_("The password must have at least 10 characters."),
    "password_whitespace": N_("The password must not start or end with a space."),
    "wrong_password": N_("The current password is wrong."),
    "username_invalid": N_("Use letters, digits, dots, hyphens or underscores."),
    "username_taken": N_("That username is taken."),
    "unknown_organisation": N_("Choose an organisation from the list."),
    "unknown_department": N_("Choose a department of the chosen organisation."),
    "unknown_municipality": N_("Choose a municipality from the list."),
    "organisation_exists": N_("An organisation with that name exists."),
    "nin_format": N_("A national identity number has 11 digits."),
    "nin_checksum": N_("The check digits do not match. Check the number."),
    "nin_date": N_("The number does not contain a valid date of birth."),
    "patient_exists": N_("A patient with this national identity number is registered."),
    "phone_invalid": N_("Write a phone number with 8 to 15 digits."),
    "email_invalid": N_("Write a valid email address."),
    "reason_required": N_("State why you need access."),
    "cancel_reason_required": N_("Write why the consultation is cancelled."),
    "cancel_reason_too_long": N_("The reason can be at most 500 characters. Shorten it and try again."),
    "not_found": N_("We could not find what you asked for."),
    "forbidden": N_("You do not have access to this."),
    "csrf_failed": N_("The form had expired. Try again."),
    "validation_failed": N_("Some fields need your attention."),
    "conflict": N_("The change conflicts with another change."),
    "rate_limited": N_("Too many attempts. Wait a little and try again."),
    "unavailable": N_("The service is busy. Try again in a moment."),
    "notes.export_busy": N_("Many exports are being made right now. Try again in a few seconds."),
    "notes.export_timed_out": N_("The export took too long and was stopped. Try again in a moment."),
    "notes.export_failed": N_("The export stopped unexpectedly. Try again."),
    "invalid_json": N_("The request body is not valid JSON."),
    "invalid_choice": N_("Choose one of the options."),
    "too_long": N_("The text is too long."),
    "passwords_differ": N_("The two passwords are not the same."),
    "unknown_field": N_("This field is not known."),
    "duplicate_key": N_("The field is given twice."),
    "authentication_required": N_("Log in first."),
    "method_not_allowed": N_("This method is not allowed here."),
    "too_large": N_("The request is too large."),
    "unsupported_media_type": N_("This content type is not supported."),
    "internal_error": N_("Something went wrong on our side."),
    "hours_invalid": N_("Write the number of hours, for example 3.5."),
    "slot_taken": N_("That time was just taken. Choose another."),
    "slot_unavailable": N_("That time is not available any more."),
    "unknown_patient": N_("Choose a patient from the list."),
    "hours_format": N_("Write times as 08:00-15:30."),
    "invalid_date": N_("Write a date as YYYY-MM-DD."),
    "patient_unknown": N_("No patient has this national identity number. Check the 11 digits."),
    "dates_reversed": N_("The end date is before the start date."),
    "check_busy": N_("Many device checks are running right now. Wait a minute and try again."),
    "check_not_found": N_("This device check has ended. Start a new one."),
    "check_already_offered": N_("This device check is already connected. Start a new one to test again."),
    "sdp_unreadable": N_("The browser's connection offer could not be read."),
    "sdp_codec": N_("The browser offered no video or sound format we can use."),
    "sdp_media": N_("The connection offer must have one data channel and at most one camera and microphone."),
    "mobile_invalid": N_("Write a Norwegian mobile number: 8 digits starting with 4 or 9, with or without +47."),
    "join_code_not_for_booking": N_("This is not a join code for this consultation. Make a new code."),
    "code_used_make_new": N_("This code has already been used. Make a new code."),
    "code_expired_make_new": N_("This code has expired. Make a new code."),
    "invite_name_too_long": N_("The name can be at most 100 characters."),
    "invite_name_invalid": N_("Write the name with ordinary letters, without line breaks."),
    "error": N_("Something went wrong."),
}


def message_for(code: str) -> str:
    """The translated message for a code; unknown codes get a general message."""
    return _(_MESSAGES.get(code, _MESSAGES["error"]))
