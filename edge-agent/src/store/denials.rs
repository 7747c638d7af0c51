//! The security log of refused requests (`auth_denials`): who asked for what and why it
//! was refused. Rows are only ever inserted (triggers abort UPDATE and DELETE).

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::tx::{Tx, parse_time};
use crate::error::Result;

/// One refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuthDenial {
    /// When.
    pub at: DateTime<Utc>,
    /// The caller's role (`anonymous` without valid credentials).
    pub role: String,
    /// The caller: device, hospital, officer or operator id, or patient id; `None` when
    /// anonymous.
    pub principal: Option<String>,
    /// HTTP method.
    pub method: String,
    /// The route template (`/v1/incidents/{id}/summary`), never the query string.
    pub route: String,
    /// The resource id asked for, when the refusal was about it (another unit's incident).
    pub resource: Option<String>,
    /// Stable reason code (`unauthenticated`, `role_not_allowed`, `outside_scope`, ...).
    pub reason: String,
}

impl Tx<'_> {
    /// Appends a refused request to the security log.
    pub fn append_auth_denial(&self, denial: &AuthDenial) -> Result<()> {
        self.tx.execute(
            "INSERT INTO auth_denials (at, role, principal, method, route, resource, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                denial.at.to_rfc3339(),
                denial.role,
                denial.principal,
                denial.method,
                denial.route,
                denial.resource,
                denial.reason,
            ],
        )?;
        Ok(())
    }

    /// The most recent refused requests, newest first.
    pub fn auth_denials(&self, limit: u32) -> Result<Vec<AuthDenial>> {
        let mut statement = self.tx.prepare(
            "SELECT at, role, principal, method, route, resource, reason
             FROM auth_denials ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                AuthDenial {
                    at: DateTime::<Utc>::MIN_UTC,
                    role: r.get(1)?,
                    principal: r.get(2)?,
                    method: r.get(3)?,
                    route: r.get(4)?,
                    resource: r.get(5)?,
                    reason: r.get(6)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (at, denial) = row?;
            Ok(AuthDenial {
                at: parse_time(&at)?,
                ..denial
            })
        })
        .collect()
    }
}
