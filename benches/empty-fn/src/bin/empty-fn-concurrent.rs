//! An empty Lambda function in `lambda_runtime`'s concurrent mode (Lambda Managed Instances):
//! `run_concurrent` (feature `concurrency-tokio`) runs one worker per
//! `AWS_LAMBDA_MAX_CONCURRENCY` slot, each with one request in flight; the default runtime
//! and subscriber otherwise, and a constant answer.
use lambda_runtime::{Error, LambdaEvent, run_concurrent, service_fn, tracing};
use serde_json::{Value, json};

async fn function_handler(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "isAuthorized": true }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run_concurrent(service_fn(function_handler)).await
}
