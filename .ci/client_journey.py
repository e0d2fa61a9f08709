"""A juror's journey through the Python client generated from the served OpenAPI document (.ci/contract).

    python client_journey.py BASE_URL

Staff and an applicant set the scene on a server loaded with `cordee demo`: a call opens, a start-up applies with
its pitch deck and submits, the call closes, staff screen the application eligible, put the demo juror on the jury,
assign the application and set the stage's review deadline. Then the juror logs in, creates a personal token scoped
to reviews and, with that token only, lists their assignments with the due date, reads the application, downloads
its attachment, saves a draft review, is refused an out-of-range score with the field named, and submits.

Every step goes through the generated client's functions (`cordee_client.api…`), none through raw HTTP. Exits
non-zero on the first step that does not answer as expected.
"""

import datetime
import io
import sys
import uuid

from cordee_client import AuthenticatedClient, Client
from cordee_client.api.accounts import create_my_token, get_me, log_in
from cordee_client.api.applications import (
    create_application,
    download_attachment,
    get_application,
    screen_application,
    submit_application,
    upload_attachment,
)
from cordee_client.api.calls import create_call, get_call, publish_call, update_call
from cordee_client.api.evaluation import (
    add_call_juror,
    create_assignment,
    list_my_assignments,
    save_my_review,
    set_review_deadline,
    submit_my_review,
)
from cordee_client.api.organizations import list_my_organizations
from cordee_client.models import (
    AddJuror,
    AttachmentUpload,
    CreateApplication,
    CreateApplicationAnswersType0,
    CreateAssignment,
    CreateCall,
    CreateTokenRequest,
    LoginRequest,
    ReviewDeadline,
    SaveReview,
    SaveReviewScoresType0,
    Screening,
    SubmitReview,
    UpdateCall,
)
from cordee_client.types import File

PASSWORD = "montagne-2026-demo"  # the password `cordee demo` gives its accounts
ADMIN = "admin@demo.cordee.localhost"
FOUNDER = "fondatrice@neige-mobilite.example"
JUROR = "jure@demo.cordee.localhost"
STAGE = "written"
# A minimal but real PDF: the server checks a file's content, not its name.
PITCH_DECK = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
ANSWERS = {
    "solution_name": "Navette Neige",
    "solution_description": "Une navette électrique à la demande entre les villages et les pieds de pistes.",
    "challenges": ["mobility_access", "energy_climate"],
    "problem": "Les stations saturent leurs parkings et les saisonniers n'ont pas de transport le soir.",
    "novelty": "Réservation dynamique et mutualisation avec le transport scolaire.",
    "maturity": "prototype",
    "business_model": "Abonnement payé par les communes, billet à l'unité pour les visiteurs.",
    "revenue_last_year": 42000,
    "funds_raised": 150000,
    "team_fte": 3.5,
    "impact": "Moins de voitures en station, des emplois locaux.",
    "rules_consent": True,
}


def expect(step, response, status):
    """The parsed answer of a step, or exit naming the step and what the server said."""
    if response.status_code != status:
        body = response.content.decode("utf-8", "replace")[:2000]
        sys.exit(f"FAILED {step}: expected {status}, got {int(response.status_code)}: {body}")
    print(f"ok  {step}")
    return response.parsed


def rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def session(base, email, step):
    """A client authenticated with a login session of `email`."""
    answer = log_in.sync_detailed(client=Client(base_url=base), body=LoginRequest(email=email, password=PASSWORD))
    logged_in = expect(step, answer, 200)
    return AuthenticatedClient(base_url=base, token=logged_in.token)


def set_the_scene(base):
    """Staff and an applicant: an application with its pitch deck, eligible and assigned to the demo juror."""
    admin = session(base, ADMIN, "staff log in")
    founder = session(base, FOUNDER, "the founder logs in")
    now = datetime.datetime.now(datetime.timezone.utc)
    slug = f"atl-client-{uuid.uuid4().hex[:8]}"
    body = CreateCall(
        template="alpes-tourisme-lab",
        slug=slug,
        # An edition of its own: the demo's Alpes Tourisme Lab already holds ATL and this year.
        edition=3000 + uuid.uuid4().int % 6000,
        opens_at=rfc3339(now - datetime.timedelta(days=1)),
        closes_at=rfc3339(now + datetime.timedelta(days=30)),
    )
    call = expect("staff create a call", create_call.sync_detailed(client=admin, body=body), 201)
    expect("staff publish it", publish_call.sync_detailed(call.id, client=admin), 200)

    organizations = expect("the founder lists her organizations", list_my_organizations.sync_detailed(client=founder), 200)
    body = CreateApplication(
        organization_id=organizations.items[0].id,
        answers=CreateApplicationAnswersType0.from_dict(ANSWERS),
    )
    application = expect("she applies", create_application.sync_detailed(call.id, client=founder, body=body), 201)
    upload = AttachmentUpload(
        field="pitch_deck",
        file=File(payload=io.BytesIO(PITCH_DECK), file_name="pitch-deck.pdf", mime_type="application/pdf"),
    )
    expect("she uploads her pitch deck", upload_attachment.sync_detailed(application.id, client=founder, body=upload), 201)
    expect("she submits", submit_application.sync_detailed(application.id, client=founder), 200)

    etag = get_call.sync_detailed(str(call.id), client=admin).headers["etag"]
    body = UpdateCall(closes_at=rfc3339(now - datetime.timedelta(seconds=1)))
    expect("staff close the call", update_call.sync_detailed(call.id, client=admin, body=body, if_match=etag), 200)
    body = Screening(outcome="eligible")
    expect("staff screen it eligible", screen_application.sync_detailed(application.id, client=admin, body=body), 200)

    juror = session(base, JUROR, "the juror logs in")
    juror_id = expect("the juror reads their account", get_me.sync_detailed(client=juror), 200).id
    body = AddJuror(user_id=juror_id)
    expect("staff put the juror on the jury", add_call_juror.sync_detailed(call.id, client=admin, body=body), 201)
    body = CreateAssignment(application_id=application.id, juror_id=juror_id, stage=STAGE)
    expect("staff assign the application", create_assignment.sync_detailed(call.id, client=admin, body=body), 201)
    due_at = (now + datetime.timedelta(days=14)).replace(microsecond=0)
    body = ReviewDeadline(due_at=rfc3339(due_at))
    expect("staff set the review deadline", set_review_deadline.sync_detailed(call.id, STAGE, client=admin, body=body), 200)
    return juror, call, application, due_at


def review(base, juror_session, call, application, due_at):
    """The juror's side, with a personal token scoped to reviews."""
    body = CreateTokenRequest(name="jury script", scopes=["reviews:read", "reviews:write"])
    created = expect("the juror creates a token scoped to reviews", create_my_token.sync_detailed(client=juror_session, body=body), 201)
    juror = AuthenticatedClient(base_url=base, token=created.token)

    page = expect("with it, they list their assignments", list_my_assignments.sync_detailed(client=juror, call_id=call.id, limit=50), 200)
    assert [a.application_id for a in page.items] == [application.id], page
    assert page.next_cursor is None, page
    mine = page.items[0]
    assert mine.review_status == "pending", mine
    assert mine.review_due_at == due_at, (mine.review_due_at, due_at)
    print(f"    {mine.reference}, stage {mine.stage}, review due {mine.review_due_at.isoformat()}")

    read = expect("they read the application", get_application.sync_detailed(mine.application_id, client=juror), 200)
    assert read.answers["solution_name"] == ANSWERS["solution_name"], read.answers
    attachment = read.attachments[0]
    file = expect("they download its attachment", download_attachment.sync_detailed(read.id, attachment.id, client=juror), 200)
    assert file.payload.read() == PITCH_DECK, "the downloaded file is the uploaded one"

    draft = SaveReview(stage=STAGE, scores=SaveReviewScoresType0.from_dict({"innovation": 4, "team": 3}), comment="Solide.")
    saved = expect("they save a draft review", save_my_review.sync_detailed(read.id, client=juror, body=draft), 200)
    assert saved.status == "draft", saved

    scores = {"innovation": 9, "mountain_fit": 4, "market": 3, "team": 4, "impact": 5}
    out_of_range = SaveReview(stage=STAGE, scores=SaveReviewScoresType0.from_dict(scores))
    problem = expect("a score out of range is refused", save_my_review.sync_detailed(read.id, client=juror, body=out_of_range), 422)
    fields = [e.field for e in problem.errors]
    assert fields == ["scores.innovation"], fields
    print(f"    {problem.errors[0].field}: {problem.errors[0].message}")

    scores["innovation"] = 5
    complete = SaveReview(stage=STAGE, scores=SaveReviewScoresType0.from_dict(scores), comment="Solide, à suivre.")
    expect("they complete the review", save_my_review.sync_detailed(read.id, client=juror, body=complete), 200)
    submitted = expect("they submit it", submit_my_review.sync_detailed(read.id, client=juror, body=SubmitReview(stage=STAGE)), 200)
    assert submitted.status == "submitted", submitted

    page = expect("their assignment shows the review submitted", list_my_assignments.sync_detailed(client=juror, call_id=call.id), 200)
    assert page.items[0].review_status == "submitted", page


def main():
    base = sys.argv[1].rstrip("/")
    juror, call, application, due_at = set_the_scene(base)
    review(base, juror, call, application, due_at)
    print("the generated client went through the juror's journey")


if __name__ == "__main__":
    main()
