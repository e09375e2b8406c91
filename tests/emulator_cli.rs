#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash emulator` as another Hex client would use it: start the binary, read its base URL
//! from the first stdout line, talk to it over HTTP, stop it with SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Home;

#[test]
fn the_emulator_prints_its_base_url_first_and_serves_the_demo_workspace() {
    let home = Home::new();
    let mut child = home
        .std_command(&["emulator", "--addr", "127.0.0.1:0", "--speed", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/api/v1"),
        "first line was {first:?}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body, unauthorized) = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let ok = http
            .get(format!("{base}/projects"))
            .bearer_auth("hxtp_demo_0000000000000000")
            .send()
            .await
            .unwrap();
        let status = ok.status().as_u16();
        let body: serde_json::Value = ok.json().await.unwrap();
        let bad = http
            .get(format!("{base}/projects"))
            .bearer_auth("hxtp_not_accepted")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (status, body, bad)
    });
    assert_eq!(status, 200);
    let titles: Vec<&str> = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("Daily ETL")), "{titles:?}");
    assert_eq!(unauthorized, 401);

    // SIGTERM ends it cleanly.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[test]
fn a_bad_scenario_names_the_file_and_line() {
    let home = Home::new();
    let path = home.path().join("bad.toml");
    std::fs::write(&path, "tokens = [\"t\"]\n[[projects]]\nid = 5\n").unwrap();
    let out = home
        .std_command(&["emulator", "--addr", "127.0.0.1:0", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3:"), "{err}");
}

#[test]
fn on_a_network_address_the_emulator_warns_that_it_is_reachable() {
    let home = Home::new();
    let mut child = home
        .std_command(&["emulator", "--addr", "0.0.0.0:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr on a thread so a missing warning fails the test instead of hanging it.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = String::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("warning") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.contains("which other machines can reach") && seen.contains("127.0.0.1"),
        "stderr: {seen}"
    );
}
