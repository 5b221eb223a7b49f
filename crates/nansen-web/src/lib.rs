//! The web interface. Pages are rendered on the server and read without JavaScript; the
//! bundled script only draws charts and maps from data already in the page, and shows
//! upload progress. Every page asks the application layer, which alone decides who may see
//! what: a page knows nothing a handler of the API would not.

mod assets;
mod charts;
mod error;
mod layout;
mod pages;
mod session;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use nansen_app::App;
use std::sync::Arc;

pub use error::not_found_page;
pub use pages::dataset::{attachment, provenance_headers, with_headers};
pub use pages::documents::document_attachment;
pub use pages::run_admitted;
pub use session::client_address;

/// What every page handler shares.
pub struct Web {
    pub app: Arc<App>,
    pub limiter: session::SignInLimiter,
}

pub type WebState = axum::extract::State<Arc<Web>>;

/// The pages and their assets, over one application.
pub fn router(app: Arc<App>) -> Router {
    let web = Arc::new(Web {
        app,
        limiter: Default::default(),
    });
    Router::new()
        .route("/", get(pages::catalogue::page))
        .route(
            "/sign-in",
            get(pages::account::sign_in_page).post(pages::account::sign_in),
        )
        .route("/sign-out", post(pages::account::sign_out))
        .route("/account", get(pages::account::page))
        .route("/account/tokens", post(pages::account::create_token))
        .route(
            "/account/tokens/:id/revoke",
            post(pages::account::revoke_token),
        )
        .route("/datasets/:org/:slug", get(pages::dataset::page))
        .route(
            "/datasets/:org/:slug/download",
            get(pages::dataset::download),
        )
        .route("/datasets/:org/:slug/sharing", post(pages::dataset::share))
        .route(
            "/datasets/:org/:slug/access-request",
            post(pages::dataset::request_access),
        )
        .route(
            "/upload",
            get(pages::upload::form)
                .post(pages::upload::stage)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/uploads/:id", get(pages::upload::show))
        .route("/uploads/:id/confirm", post(pages::upload::confirm))
        .route("/uploads/:id/discard", post(pages::upload::discard))
        .route("/explore", get(pages::explore::page))
        .route("/explore/download", get(pages::explore::download))
        .route("/admin", get(pages::admin::page))
        .route("/admin/organisations", post(pages::admin::add_org))
        .route("/admin/members", post(pages::admin::set_member))
        .route("/admin/members/remove", post(pages::admin::remove_member))
        .route("/admin/access-requests/:id", post(pages::admin::decide))
        .route("/admin/audit", get(pages::admin::audit))
        .route("/alerts", get(pages::warning::inbox))
        .route(
            "/alerts/:id",
            get(pages::warning::alert).post(pages::warning::update_alert),
        )
        .route("/alerts/:id/comments", post(pages::warning::comment))
        .route(
            "/watches",
            get(pages::warning::watches).post(pages::warning::create_watch),
        )
        .route("/watches/:id", get(pages::warning::watch))
        .route(
            "/datasets/:org/:slug/backtest",
            get(pages::warning::backtest),
        )
        .route(
            "/plans",
            get(pages::warning::plans).post(pages::warning::create_plan),
        )
        .route("/plans/:id", get(pages::warning::plan))
        .route("/plans/:id/actions/:n", post(pages::warning::tick))
        .route("/programmes", get(pages::operations::programmes))
        .route("/programmes/:org/:slug", get(pages::operations::programme))
        .route(
            "/programmes/:org/:slug/cases",
            get(pages::operations::cases),
        )
        .route(
            "/programmes/:org/:slug/pledges",
            get(pages::operations::pledges).post(pages::operations::set_pledge),
        )
        .route(
            "/programmes/:org/:slug/matching",
            get(pages::matching::matching),
        )
        .route(
            "/programmes/:org/:slug/matching/proposals",
            post(pages::matching::propose),
        )
        .route("/proposals/:id", get(pages::matching::proposal))
        .route("/proposals/:id/accept", post(pages::matching::accept))
        .route("/cases/:id", get(pages::operations::case))
        .route("/cases/:id/move", post(pages::operations::move_case))
        .route("/cases/:id/approval", post(pages::operations::approve))
        .route("/cases/:id/assignee", post(pages::operations::assign))
        .route("/cases/:id/match", post(pages::operations::match_case))
        .route("/cases/:id/referrals", post(pages::operations::refer))
        .route("/cases/:id/consents", post(pages::operations::consent))
        .route("/cases/:id/follow-ups", post(pages::operations::follow_up))
        .route(
            "/cases/:id/documents",
            post(pages::operations::attach).layer(axum::extract::DefaultBodyLimit::max(
                nansen_app::MAX_CASE_DOCUMENT_BYTES + (1 << 20),
            )),
        )
        .route(
            "/cases/:id/documents/:document",
            get(pages::operations::document),
        )
        .route("/referrals", get(pages::operations::referrals))
        .route(
            "/referrals/:id/accept",
            post(pages::operations::accept_referral),
        )
        .route(
            "/referrals/:id/decline",
            post(pages::operations::decline_referral),
        )
        .route("/reporting", get(pages::reporting::templates))
        .route("/templates/:org/:slug", get(pages::reporting::template))
        .route(
            "/templates/:org/:slug/workbook",
            get(pages::reporting::workbook),
        )
        .route(
            "/templates/:org/:slug/submissions",
            post(pages::reporting::submit).layer(axum::extract::DefaultBodyLimit::max(
                nansen_app::MAX_RETURN_BYTES + (1 << 20),
            )),
        )
        .route(
            "/templates/:org/:slug/approvals",
            post(pages::reporting::approve_all),
        )
        .route(
            "/templates/:org/:slug/form",
            get(pages::reporting::return_form).post(pages::reporting::save_return_form),
        )
        .route("/submissions/:id", get(pages::reporting::submission))
        .route("/submissions/:id/comments", post(pages::reporting::comment))
        .route("/submissions/:id/approve", post(pages::reporting::approve))
        .route("/submissions/:id/reject", post(pages::reporting::reject))
        .route("/search", get(pages::documents::search))
        .route(
            "/documents/new",
            get(pages::documents::new_form)
                .post(pages::documents::add)
                .layer(document_body_limit()),
        )
        .route("/documents/:id", get(pages::documents::page))
        .route("/documents/:id/file", get(pages::documents::download))
        .route("/documents/:id/sharing", post(pages::documents::share))
        .route("/documents/:id/metadata", post(pages::documents::describe))
        .route(
            "/documents/:id/access-request",
            post(pages::documents::request_access),
        )
        .route(
            "/documents/:id/versions",
            post(pages::documents::add_version).layer(document_body_limit()),
        )
        // The chart bundle and the map are large: gzip halves them to a third for browsers that take it.
        .route(
            "/assets/:name",
            get(assets::serve).layer(tower_http::compression::CompressionLayer::new()),
        )
        .with_state(web)
}

fn document_body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(nansen_app::MAX_DOCUMENT_BYTES + (1 << 20))
}

/// Headers every response carries: nothing runs or loads from anywhere but this server,
/// nothing frames it, and no page tells another site where the person came from.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Browsers heed this only over HTTPS, where a deployment serves it.
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    res
}
