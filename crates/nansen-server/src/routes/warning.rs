//! Forecasts, backtests, watches, alerts, webhooks and contingency plans.

use super::datasets::{parse_query, Asked, QueryParams};
use super::{admitted, blocking, Address, AppState, DatasetPath, IdPath, SignedIn, Who};
use crate::error::{bad_request, ApiError};
use crate::openapi::{BadBody, BadRequest, Forbidden, Limited, NotFound, NotJson, Unauthorized};
use crate::views::{
    self, Alert, AlertStatus, AlertWithComments, BacktestAnswer, Comment, ForecastAnswer, Plan,
    PlanSpec, Subscribed, Watch, WatchSpec, Webhook,
};
use axum::extract::{Path, Query, RawQuery};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nansen_app::{AlertChange, HookTarget, SeriesRequest, Tabular, Work};
use nansen_forecast::Model;
use nansen_model::DatasetName;
use serde::Deserialize;
use utoipa::IntoParams;

fn series_request(asked: &Asked, need_series_by: bool) -> Result<SeriesRequest, ApiError> {
    let series_by: Vec<String> = asked
        .extra
        .get("series_by")
        .map(|s| {
            s.split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if need_series_by && series_by.is_empty() {
        return Err(bad_request(
            "series_by is required: the dimensions that name each series, such as geo",
        ));
    }
    let horizon = number(asked, "horizon")?
        .ok_or_else(|| bad_request("horizon is required: how many periods ahead"))?;
    Ok(SeriesRequest {
        query: asked.question.query.clone(),
        series_by,
        horizon,
    })
}

fn number(asked: &Asked, k: &str) -> Result<Option<usize>, ApiError> {
    asked
        .extra
        .get(k)
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| bad_request(format!("{k} {v:?} is not a whole number")))
        })
        .transpose()
}

fn csv_response(table: &Tabular) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        table.to_csv(),
    )
        .into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ForecastParams {
    /// Dimensions naming each series, comma-separated.
    #[param(example = "geo")]
    series_by: Option<String>,
    /// Periods ahead.
    #[param(minimum = 1, example = 3)]
    horizon: usize,
    /// The interval's level, in per cent.
    #[param(example = 80)]
    level: Option<f64>,
    #[param(schema_with = crate::openapi::forecast_models)]
    model: Option<String>,
}

pub(crate) const FORECAST_PARAMS: [&str; 4] = ["series_by", "horizon", "level", "model"];

/// Forecast each series with intervals calibrated on the model's own out-of-sample errors.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/forecast", tag = "early warning", operation_id = "forecast",
    params(DatasetPath, QueryParams, ForecastParams),
    responses((status = 200, description = "One row per series and period", content(
        (ForecastAnswer = "application/json"),
        (String = "text/csv", example = "geo,period,model,mean,lo,hi\nDEU,2015-05,auto,25370.2,21108.9,30050.7\n"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Limited))]
pub async fn forecast(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &FORECAST_PARAMS)?;
    let request = series_request(&asked, false)?;
    let level: f64 = asked
        .extra
        .get("level")
        .map(|v| {
            v.parse()
                .map_err(|_| bad_request(format!("level {v:?} is not a number")))
        })
        .transpose()?
        .unwrap_or(80.0);
    let model: Model = asked
        .extra
        .get("model")
        .map(String::as_str)
        .unwrap_or("auto")
        .parse()
        .map_err(|e: nansen_forecast::ForecastError| bad_request(e.to_string()))?;
    let app = state.0.clone();
    let series_by = request.series_by.clone();
    let permit = app.admit(&who, address, Work::Forecast)?;
    let (_, rows) = admitted(&state.0, permit, move |app, budget| {
        app.forecast(
            &who,
            &DatasetName::new(&org, &slug),
            &request,
            level,
            model,
            budget,
        )
    })
    .await?;
    if asked.format.as_deref() == Some("csv") {
        return Ok(csv_response(&Tabular::forecast(&series_by, &rows)));
    }
    Ok(Json(ForecastAnswer::new(series_by, level, rows)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct BacktestParams {
    /// Dimensions naming each series, comma-separated.
    #[param(example = "geo")]
    series_by: String,
    /// Periods ahead.
    #[param(minimum = 1, example = 3)]
    horizon: usize,
    /// How many origins to test.
    #[param(minimum = 1, example = 24)]
    windows: usize,
    #[param(schema_with = crate::openapi::backtest_models)]
    model: Option<String>,
    /// Include every forecast made.
    details: Option<bool>,
}

pub(crate) const BACKTEST_PARAMS: [&str; 5] =
    ["series_by", "horizon", "windows", "model", "details"];

/// Rolling-origin backtest: MASE, sMAPE, 80% coverage and MSIS per series and model.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/backtest", tag = "early warning", operation_id = "backtest",
    params(DatasetPath, QueryParams, BacktestParams),
    responses((status = 200, description = "Scores", content(
        (BacktestAnswer = "application/json"),
        (String = "text/csv", example = "geo,model,mase,smape,coverage80,msis,forecasts\nDEU,auto,0.91,12.4,0.81,5.2,72\n"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Limited))]
pub async fn backtest(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &BACKTEST_PARAMS)?;
    let request = series_request(&asked, true)?;
    let windows = number(&asked, "windows")?
        .ok_or_else(|| bad_request("windows is required: how many origins to test"))?;
    let models: Vec<Model> = match asked
        .extra
        .get("model")
        .map(String::as_str)
        .unwrap_or("auto")
    {
        "all" => nansen_forecast::MODELS.to_vec(),
        m => vec![m
            .parse()
            .map_err(|e: nansen_forecast::ForecastError| bad_request(e.to_string()))?],
    };
    let details = asked.extra.get("details").is_some_and(|v| v == "true");
    let app = state.0.clone();
    let series_by = request.series_by.clone();
    let permit = app.admit(&who, address, Work::Forecast)?;
    let (_, report) = admitted(&state.0, permit, move |app, budget| {
        app.backtest(
            &who,
            &DatasetName::new(&org, &slug),
            &request,
            windows,
            &models,
            budget,
        )
    })
    .await?;
    if asked.format.as_deref() == Some("csv") {
        return Ok(csv_response(&Tabular::backtest_scores(&series_by, &report)));
    }
    Ok(Json(BacktestAnswer::new(series_by, report, details)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewWatch {
    /// The watching organisation.
    #[schema(example = "euaa")]
    org: String,
    #[schema(example = "Syrian applications")]
    name: String,
    #[serde(flatten)]
    spec: WatchSpec,
    /// Partner organisations that read it and its alerts.
    #[serde(default)]
    #[schema(example = json!(["iom"]))]
    partners: Vec<String>,
}

/// The watches the caller may read, with their latest forecast.
#[utoipa::path(get, path = "/api/v1/watches", tag = "early warning", operation_id = "listWatches",
    responses((status = 200, description = "Watches", body = Vec<Watch>), Unauthorized))]
pub async fn watches(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<Watch>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(blocking(move || app.watches(&who)).await?)))
}

/// Watch a series; checked at once and on every new version.
///
/// Editors and admins of the watching organisation, who must read the data.
#[utoipa::path(post, path = "/api/v1/watches", tag = "early warning", operation_id = "createWatch",
    request_body = NewWatch,
    responses((status = 201, description = "The watch, checked", body = Watch),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn create_watch(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewWatch>,
) -> Result<(StatusCode, Json<Watch>), ApiError> {
    let app = state.0.clone();
    let spec = b.spec.into();
    Ok((
        StatusCode::CREATED,
        Json(
            blocking(move || app.create_watch(&who, &b.org, &b.name, spec, &b.partners))
                .await?
                .into(),
        ),
    ))
}

/// A watch: its series, rules, forecast and open alerts.
#[utoipa::path(get, path = "/api/v1/watches/{id}", tag = "early warning", operation_id = "getWatch",
    params(IdPath),
    responses((status = 200, description = "The watch", body = Watch), BadRequest, Unauthorized, NotFound))]
pub async fn watch(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<Watch>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.watch(&who, id)).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    #[param(schema_with = crate::openapi::alert_statuses)]
    status: Option<String>,
}

/// Alerts of every watch the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "early warning", operation_id = "listAlerts",
    params(AlertFilter),
    responses((status = 200, description = "Alerts", body = Vec<Alert>), BadRequest, Unauthorized))]
pub async fn alerts(
    state: AppState,
    SignedIn(who): SignedIn,
    Query(f): Query<AlertFilter>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let status = f
        .status
        .map(|s| s.parse::<nansen_app::AlertStatus>())
        .transpose()
        .map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.alerts(&who, status)).await?,
    )))
}

/// An alert, why it fired, and its comments.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "early warning", operation_id = "getAlert",
    params(IdPath),
    responses((status = 200, description = "The alert", body = AlertWithComments), BadRequest, Unauthorized, NotFound))]
pub async fn alert(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<AlertWithComments>, ApiError> {
    let app = state.0.clone();
    let (alert, comments) = blocking(move || app.alert(&who, id)).await?;
    Ok(Json(AlertWithComments {
        alert: alert.into(),
        comments: views::all(comments),
    }))
}

/// A change to an alert: its status, its assignee (null unassigns), or both.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AlertChangeBody {
    status: Option<AlertStatus>,
    /// A person of the watching organisation; null unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "officer@euaa.europa.eu")]
    assignee: Option<Option<String>>,
}

/// A field that is present, even as null or empty, is `Some`: null and "" unassign, and a
/// field left out changes nothing.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(|v| Some(v.filter(|s| !s.is_empty())))
}

/// Move an alert to acknowledged, resolved or false_alarm, or assign it; audited.
#[utoipa::path(post, path = "/api/v1/alerts/{id}", tag = "early warning", operation_id = "updateAlert",
    params(IdPath), request_body = AlertChangeBody,
    responses((status = 200, description = "The alert", body = Alert),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn update_alert(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<AlertChangeBody>,
) -> Result<Json<Alert>, ApiError> {
    let change = AlertChange {
        status: b.status.map(Into::into),
        assignee: b.assignee,
    };
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.update_alert(&who, id, &change))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewComment {
    #[schema(example = "Confirmed by the Budapest office.")]
    body: String,
}

/// Comment on an alert; audited.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/comments", tag = "early warning", operation_id = "commentAlert",
    params(IdPath), request_body = NewComment,
    responses((status = 201, description = "The comment", body = Comment),
        BadRequest, Unauthorized, NotFound, NotJson, BadBody))]
pub async fn comment(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<NewComment>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    let app = state.0.clone();
    let c = blocking(move || app.comment_alert(&who, id, &b.body)).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// A subscription: to a watch's alerts (`watch`), a dataset's new versions (`dataset`) or a
/// reporting template's reminders (`template`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewWebhook {
    #[schema(example = "iom")]
    org: String,
    #[schema(example = "https://hooks.iom.int/nansen")]
    url: String,
    #[schema(example = 1)]
    watch: Option<i64>,
    /// ORG/SLUG.
    dataset: Option<String>,
    /// ORG/SLUG of a reporting template (its owner or one of its reporters subscribes).
    template: Option<String>,
}

/// Webhook subscriptions of the organisations the caller administers, with their deliveries.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "early warning", operation_id = "listWebhooks",
    responses((status = 200, description = "Subscriptions", body = Vec<Webhook>), Unauthorized))]
pub async fn webhooks(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.webhooks(&who)).await?,
    )))
}

/// Subscribe an organisation to a watch's alerts, a dataset's new versions or a reporting
/// template's reminders; the signing
/// secret is shown once.
///
/// Loopback and private targets are refused unless the operator allows them.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "early warning", operation_id = "subscribeWebhook",
    request_body = NewWebhook,
    responses((status = 201, description = "The subscription and its secret", body = Subscribed),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn subscribe(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewWebhook>,
) -> Result<(StatusCode, Json<Subscribed>), ApiError> {
    let target = match (b.watch, b.dataset, b.template) {
        (Some(w), None, None) => HookTarget::Watch(w),
        (None, Some(d), None) => HookTarget::Dataset(d),
        (None, None, Some(t)) => HookTarget::Template(t),
        _ => {
            return Err(bad_request(
                "give one of watch (an id), dataset (ORG/SLUG) or template (ORG/SLUG)",
            ))
        }
    };
    let app = state.0.clone();
    let (hook, secret) = blocking(move || app.subscribe(&who, &b.org, &target, &b.url)).await?;
    Ok((
        StatusCode::CREATED,
        Json(Subscribed {
            webhook: hook.into(),
            secret,
        }),
    ))
}

/// Remove a subscription.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "early warning", operation_id = "removeWebhook",
    params(IdPath),
    responses((status = 204, description = "Removed"), BadRequest, Unauthorized, NotFound))]
pub async fn unsubscribe(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<StatusCode, ApiError> {
    let app = state.0.clone();
    blocking(move || app.unsubscribe(&who, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPlan {
    #[schema(example = "euaa")]
    org: String,
    #[schema(example = "Arrivals by sea to Italy")]
    title: String,
    #[serde(default)]
    #[schema(example = "Summer crossings exceed reception")]
    scenario: String,
    #[serde(flatten)]
    spec: PlanSpec,
}

/// Contingency plans of the caller's organisations, each with whether it is triggered and why.
#[utoipa::path(get, path = "/api/v1/plans", tag = "early warning", operation_id = "listPlans",
    responses((status = 200, description = "Plans", body = Vec<Plan>), Unauthorized))]
pub async fn plans(state: AppState, SignedIn(who): SignedIn) -> Result<Json<Vec<Plan>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(blocking(move || app.plans(&who)).await?)))
}

/// Write a plan: triggers on watches' forecasts and alerts, and actions with owners.
#[utoipa::path(post, path = "/api/v1/plans", tag = "early warning", operation_id = "createPlan",
    request_body = NewPlan,
    responses((status = 201, description = "The plan, evaluated", body = Plan),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn create_plan(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<NewPlan>,
) -> Result<(StatusCode, Json<Plan>), ApiError> {
    let app = state.0.clone();
    let spec = b.spec.into();
    Ok((
        StatusCode::CREATED,
        Json(
            blocking(move || app.create_plan(&who, &b.org, &b.title, &b.scenario, spec))
                .await?
                .into(),
        ),
    ))
}

/// A plan, its triggers' state, and since when it is triggered.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "early warning", operation_id = "getPlan",
    params(IdPath),
    responses((status = 200, description = "The plan", body = Plan), BadRequest, Unauthorized, NotFound))]
pub async fn plan(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<Plan>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.plan(&who, id)).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActionPath {
    #[param(example = 1)]
    id: i64,
    /// The action's place in the checklist, from 1.
    #[param(minimum = 1, example = 1)]
    n: usize,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Done {
    done: bool,
}

/// Tick or untick action n (from 1) of a plan's checklist; audited.
#[utoipa::path(post, path = "/api/v1/plans/{id}/actions/{n}", tag = "early warning", operation_id = "tickAction",
    params(ActionPath), request_body = Done,
    responses((status = 200, description = "The plan", body = Plan),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn tick(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(ActionPath { id, n }): Path<ActionPath>,
    Json(b): Json<Done>,
) -> Result<Json<Plan>, ApiError> {
    if n == 0 {
        return Err(bad_request("actions are numbered from 1"));
    }
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.set_action_done(&who, id, n - 1, b.done))
            .await?
            .into(),
    ))
}
