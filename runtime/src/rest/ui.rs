//! The web dashboard: the files under `ui/`, embedded in the binary at
//! build time (no build step, no CDN), served at `/` and `/assets/:file`.
//! The pages call the REST API from the browser; see `ui/app.js`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppError;

/// `(file name, content type, content)` of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    ("style.css", "text/css; charset=utf-8", include_str!("../../../ui/style.css")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../../ui/app.js")),
    ("cluster.js", "text/javascript; charset=utf-8", include_str!("../../../ui/cluster.js")),
    ("jobs.js", "text/javascript; charset=utf-8", include_str!("../../../ui/jobs.js")),
    ("job.js", "text/javascript; charset=utf-8", include_str!("../../../ui/job.js")),
    ("dag.js", "text/javascript; charset=utf-8", include_str!("../../../ui/dag.js")),
    ("chart.js", "text/javascript; charset=utf-8", include_str!("../../../ui/chart.js")),
    ("submit.js", "text/javascript; charset=utf-8", include_str!("../../../ui/submit.js")),
    ("logs.js", "text/javascript; charset=utf-8", include_str!("../../../ui/logs.js")),
    ("savepoint.js", "text/javascript; charset=utf-8", include_str!("../../../ui/savepoint.js")),
    ("checkpoints.js", "text/javascript; charset=utf-8", include_str!("../../../ui/checkpoints.js")),
];

const INDEX: &str = include_str!("../../../ui/index.html");

/// `GET /`: the dashboard's single page.
pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX).into_response()
}

/// `GET /assets/:file`.
pub async fn asset(Path(file): Path<String>) -> Result<Response, AppError> {
    let (_, content_type, body) = ASSETS.iter().find(|(name, _, _)| *name == file).ok_or_else(|| AppError {
        status: StatusCode::NOT_FOUND,
        message: format!("no dashboard asset named '{file}'"),
    })?;
    Ok(([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "no-cache")], *body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every module the pages import is served.
    #[test]
    fn every_imported_module_is_an_asset() {
        for (_, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.starts_with("import ")) {
                let module = line.rsplit("from './").next().and_then(|m| m.split('\'').next()).unwrap();
                assert!(ASSETS.iter().any(|(name, _, _)| *name == module), "{module} is imported but not served");
            }
        }
        assert!(INDEX.contains("/assets/app.js"));
    }
}
