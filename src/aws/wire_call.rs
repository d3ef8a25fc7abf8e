//! ECR operations called with their wire members: the body skyql builds from provider-schemas
//! (the members by wire name, as ECR and the sandbox see them) is sent through the SDK's own
//! operation, which signs, times, retries and classifies it as any SDK call, and the answer is
//! read back as its wire members. A resource therefore names its operations once
//! (`ecr_operations!`) instead of mapping every member to and from the SDK's types.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_ecr::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::attempts::in_own_record;
use super::clients::EcrClients;
use super::mutate::Sender;
use crate::dml::ApiCall;
use crate::error::{Error, Result};

/// An answer's (or a request's) members by wire name.
pub type Members = Map<String, Value>;

/// How one ECR operation is sent: its SDK operation with the body replaced.
pub type SendFn = fn(Client, String, Vec<u8>) -> BoxFuture<'static, Result<Members>>;

/// One ECR operation skyql can call, registered by the resource that uses it.
pub struct EcrOperation {
    /// The operation's name (`DescribeRepositories`), as provider-schemas write it.
    pub name: &'static str,
    /// Sends a body in a region.
    pub send: SendFn,
}

inventory::collect!(EcrOperation);

/// Registers ECR operations by name, each with the SDK client's method that makes it:
/// `ecr_operations!(DescribeRepositories => describe_repositories, …)`.
#[macro_export]
macro_rules! ecr_operations {
    ($($name:ident => $method:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::aws::wire_call::EcrOperation {
                name: stringify!($name),
                send: |client, region, body| {
                    Box::pin(async move {
                        let answer = $crate::aws::wire_call::Answer::default();
                        let sent = client
                            .$method()
                            .customize()
                            .interceptor(answer.clone())
                            .mutate_request(move |r| $crate::aws::wire_call::set_body(r, &body))
                            .send()
                            .await;
                        match sent {
                            Ok(_) => answer.members(),
                            Err(e) => Err($crate::aws::clients::api_error(&region, stringify!($name), e)),
                        }
                    })
                },
            }
        }
    )+};
}

/// The operation registered as `name`.
pub fn operation(name: &str) -> Option<&'static EcrOperation> {
    inventory::iter::<EcrOperation>
        .into_iter()
        .find(|o| o.name == name)
}

/// Replaces the body the SDK serialized (its input is left empty) with `body`, on every
/// attempt: this runs before signing, so the signature covers it.
pub fn set_body(request: &mut HttpRequest, body: &[u8]) {
    *request.body_mut() = SdkBody::from(body.to_vec());
    request
        .headers_mut()
        .insert("content-length", body.len().to_string());
}

/// The body of a call's successful answer, kept by an interceptor on that call alone.
#[derive(Debug, Clone, Default)]
pub struct Answer(Arc<Mutex<Option<Vec<u8>>>>);

impl Answer {
    /// The answer's members (an empty answer has none).
    pub fn members(&self) -> Result<Members> {
        let body = self
            .0
            .lock()
            .expect("answer lock")
            .take()
            .unwrap_or_default();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Members::new());
        }
        match serde_json::from_slice(&body) {
            Ok(Value::Object(members)) => Ok(members),
            Ok(_) => Err(Error::Runtime("the answer is not a JSON object".into())),
            Err(e) => Err(Error::Runtime(format!("the answer is not JSON: {e}"))),
        }
    }
}

impl Intercept for Answer {
    fn name(&self) -> &'static str {
        "skyql: keep the answer's wire members"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        // The SDK has read the whole body into memory by now (and parsed it itself).
        if context.output_or_error().is_ok()
            && let Some(bytes) = context.response().body().bytes()
        {
            *self.0.lock().expect("answer lock") = Some(bytes.to_vec());
        }
        Ok(())
    }
}

impl EcrClients {
    /// Calls `operation` in `region` with the members `body`, answering the answer's members.
    /// The call has its attempts record of its own (for its error message).
    pub async fn call(&self, region: &str, operation: &str, body: &Members) -> Result<Members> {
        let op = self::operation(operation).ok_or_else(|| {
            Error::Runtime(format!(
                "{operation} is not an operation skyql registers (ecr_operations!); nothing was sent"
            ))
        })?;
        let bytes = serde_json::to_vec(body).map_err(|e| Error::Runtime(e.to_string()))?;
        in_own_record((op.send)(self.client(region), region.to_string(), bytes)).await
    }
}

/// Whether `error` is ECR's answer `code` (a resource's `not_found`, say).
pub fn is_code(error: &Error, code: Option<&str>) -> bool {
    matches!(error, Error::Api { code: c, .. } if Some(c.as_str()) == code)
}

/// Sends every planned call of a resource as its wire members: the calls of provider-schemas
/// need no code of their own.
#[derive(Debug)]
pub struct WireSender;

#[async_trait]
impl Sender for WireSender {
    async fn send(&self, clients: &EcrClients, call: &ApiCall) -> Result<()> {
        send_wire(clients, call).await.map(drop)
    }
}

/// Sends a planned call as its wire members, answering the answer's.
pub async fn send_wire(clients: &EcrClients, call: &ApiCall) -> Result<Members> {
    let op = operation(&call.mutation.operation).ok_or_else(|| {
        Error::Runtime(format!(
            "{} is not an operation skyql registers (ecr_operations!); nothing was sent",
            call.mutation.operation
        ))
    })?;
    let bytes =
        serde_json::to_vec(&call.mutation.params).map_err(|e| Error::Runtime(e.to_string()))?;
    (op.send)(clients.client(&call.region), call.region.clone(), bytes).await
}
