//! API Gateway's side: what an authorizer event asks and where its token is, and the answers
//! API Gateway expects back (simple responses, IAM policies).

/// Authorizer events: flavour, token source, resource ARN; the event size limit.
pub mod event;

/// API Gateway's request id from an event, for deny lines.
pub mod api_request_id;

/// Simple responses and IAM policies.
pub mod response;
