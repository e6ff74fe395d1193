//! `upload-progress-server fault ...`: posts one fault request to a running server.

use std::process::ExitCode;

use crate::cli::FaultArgs;

/// Sends the request and prints the server's answer.
pub async fn run(args: &FaultArgs) -> ExitCode {
    match send(args).await {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("fault request failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A tiny HTTP/1.1 client: enough for one JSON POST to a plain-http dev server.
async fn send(args: &FaultArgs) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let authority = args
        .server
        .strip_prefix("http://")
        .ok_or("only http:// servers are supported")?
        .trim_end_matches('/');
    let body = args.body().to_string();
    let request = format!(
        "POST /ws/admin/faults HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        args.admin_token,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(body.to_owned())
    } else {
        Err(format!("{status}: {body}"))
    }
}
