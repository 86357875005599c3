//! API Gateway's side: what an authorizer event asks, and the answers API Gateway expects.

/// API Gateway's request id from an event, for deny lines.
pub mod api_request_id;
/// Authorizer events: flavour, token source, resource ARN.
pub mod event;
/// Simple responses and IAM policies.
pub mod response;
