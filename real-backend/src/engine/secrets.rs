//! `/secrets` and `/configs` of the Engine API (dockerd's `router/swarm` secret and config
//! routes): list, create, inspect, update (labels only), delete, onto core's `CreateData`,
//! `ListData`, `InspectData` and `RemoveData`. A secret's `Data` is never answered.

use super::*;
use swarm_core::api::secret::{base64, base64_decode};
use swarm_core::api::{DataBytes, DataKind, DataObject, DataSpec};
use swarm_core::cli::inspect::rfc3339;
use swarm_core::control::ApiError;

/// A refusal from core in dockerd's terms: a name no lookup finds is a 404.
fn refusal(message: String) -> ApiErr {
    let e = ApiError::new(message);
    if e.is_client_side() && e.text().starts_with("Error: No such ") {
        return ApiErr::not_found(e.text().trim_start_matches("Error: No such ").replacen(": ", " ", 1) + " not found");
    }
    ApiErr::from_core(e.text().to_string())
}

#[derive(Serialize)]
struct DataJson {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Version")]
    version: m::ObjectVersion,
    #[serde(rename = "CreatedAt")]
    created_at: String,
    #[serde(rename = "UpdatedAt")]
    updated_at: String,
    #[serde(rename = "Spec")]
    spec: DataSpecJson,
}

#[derive(Serialize)]
struct DataSpecJson {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Labels")]
    labels: BTreeMap<String, String>,
    #[serde(rename = "Data", skip_serializing_if = "Option::is_none")]
    data: Option<String>,
}

fn data_json(d: &DataObject) -> DataJson {
    DataJson {
        id: d.id.to_string(),
        version: m::ObjectVersion { index: Some(d.version) },
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
        spec: DataSpecJson {
            name: d.spec.name.clone(),
            labels: d.spec.labels.clone(),
            // Core answers no secret's bytes; a config's are shown, as dockerd does.
            data: (d.kind == DataKind::Config).then(|| base64(d.spec.data.as_slice())),
        },
    }
}

/// `POST /secrets/create` and `/configs/create`'s body (docker's `SecretSpec`/`ConfigSpec`).
#[derive(serde::Deserialize)]
struct CreateBody {
    #[serde(rename = "Name", default)]
    name: String,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Data", default)]
    data: Option<String>,
}

impl Engine {
    pub(super) async fn data_route(
        &self,
        kind: DataKind,
        method: &Method,
        rest: &[&str],
        q: &HashMap<String, String>,
        body: &[u8],
    ) -> Res {
        use Method as M;
        match (method, rest) {
            (&M::GET, []) => self.data_list(kind, q).await,
            (&M::POST, ["create"]) => self.data_create(kind, body).await,
            (&M::GET, [id]) => {
                let found = self.data_objects(Request::InspectData { kind, names: vec![id.to_string()] }).await?;
                match found.first() {
                    Some(d) => Ok(json(StatusCode::OK, &data_json(d))),
                    None => Err(ApiErr::not_found(format!("{} {id} not found", kind.as_str()))),
                }
            }
            (&M::POST, [_, "update"]) => Err(ApiErr::not_implemented(format!(
                "swarmd does not change a {}'s labels after it is created",
                kind.as_str()
            ))),
            (&M::DELETE, [id]) => match self.ask(Request::RemoveData { kind, names: vec![id.to_string()] }).await? {
                CoreResponse::DataRemoved { refused, .. } => match refused.into_iter().next() {
                    None => Ok(empty(StatusCode::NO_CONTENT)),
                    Some(why) => Err(refusal(why)),
                },
                other => Err(unexpected(&other)),
            },
            _ => Err(ApiErr::page_not_found()),
        }
    }

    async fn data_objects(&self, request: Request) -> Result<Vec<DataObject>, ApiErr> {
        match self.daemon.call(request).await {
            Ok(CoreResponse::DataObjects { objects, .. }) => Ok(objects),
            Ok(other) => Err(unexpected(&other)),
            Err(e) => Err(refusal(e.message)),
        }
    }

    /// Filters `names`, `name`, `id` and `label` as swarmkit's `ListSecrets` (core's `cli::filter`).
    async fn data_list(&self, kind: DataKind, q: &HashMap<String, String>) -> Res {
        let filters = checked_filters(q, Listing::Data)?;
        let objects = self.data_objects(Request::ListData { kind }).await?;
        let shown: Vec<DataJson> = objects.iter().filter(|d| filters.data(d)).map(data_json).collect();
        Ok(json(StatusCode::OK, &shown))
    }

    async fn data_create(&self, kind: DataKind, body: &[u8]) -> Res {
        let req: CreateBody = body_json(body)?;
        let data = match req.data.as_deref() {
            None => Vec::new(),
            Some(text) => base64_decode(text)
                .ok_or_else(|| ApiErr::bad_request("illegal base64 data in the request's Data".to_string()))?,
        };
        let spec = DataSpec { name: req.name, labels: req.labels.unwrap_or_default(), data: DataBytes(data) };
        match self.daemon.call(Request::CreateData { kind, spec: Box::new(spec) }).await {
            Ok(CoreResponse::DataCreated { id, .. }) => {
                Ok(json(StatusCode::CREATED, &m::IdResponse { id: id.to_string() }))
            }
            Ok(other) => Err(unexpected(&other)),
            Err(e) => Err(refusal(e.message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::ids::DataId;
    use swarm_core::time::Instant;

    fn object(kind: DataKind) -> DataObject {
        DataObject {
            kind,
            id: DataId("08ewdvjyos3oe273tmvrolv9z".into()),
            spec: DataSpec { name: "db_pass".into(), labels: BTreeMap::new(), data: DataBytes(b"s3cret-pw".to_vec()) },
            version: 11,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
        }
    }

    #[test]
    fn a_secret_is_answered_without_its_data_and_a_config_with_it_in_base64() {
        let secret = serde_json::to_value(data_json(&object(DataKind::Secret))).unwrap();
        assert_eq!(secret["Spec"], serde_json::json!({"Name": "db_pass", "Labels": {}}));
        let config = serde_json::to_value(data_json(&object(DataKind::Config))).unwrap();
        assert_eq!(config["Spec"]["Data"], base64(b"s3cret-pw"));
    }

    #[test]
    fn core_not_found_is_a_404_in_dockerds_words() {
        let e = refusal(swarm_core::control::errors::client_side("Error: No such secret: db_pass"));
        assert_eq!((e.status, e.message.as_str()), (StatusCode::NOT_FOUND, "secret db_pass not found"));
    }

    #[test]
    fn data_that_is_not_base64_is_a_400_before_the_daemon() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            drop(rx);
            let host = HostFacts {
                hostname: "bd0".into(),
                version: "0.1.0".into(),
                kernel_version: "6.1".into(),
                ncpu: 2,
                mem_total: 1 << 30,
                data_root: "/var/lib/swarmd".into(),
            };
            let engine = Engine::new(Arc::new(server::EventDaemon(tx)), host);
            let body = br#"{"Name":"db_pass","Data":"not base64!"}"#;
            let response = engine.handle(&Method::POST, "/v1.41/secrets/create", body).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            let response = engine.handle(&Method::PUT, "/v1.41/configs/x", b"").await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
        });
    }
}
