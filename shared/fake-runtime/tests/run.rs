//! The fake Runtime API against a real child process: a bash script that
//! speaks the Runtime API over `/dev/tcp` (bash's own sockets), as a
//! custom runtime's bootstrap does.

use lite_fake_runtime::{run, Answer, Output, Start};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `next()` sends `GET invocation/next` on a new connection and leaves the
/// answer's head in `HEAD` and its body in `BODY`; `post PATH BODY` posts.
const PRELUDE: &str = r#"#!/bin/bash
set -u
host=${AWS_LAMBDA_RUNTIME_API%:*}; port=${AWS_LAMBDA_RUNTIME_API#*:}
next() {
  exec 3<>/dev/tcp/$host/$port
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n' >&3
  HEAD=""; len=0
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    HEAD+="$line"$'\n'
    case "${line,,}" in content-length:*) len=${line#*:}; len=${len// /};; esac
  done
  BODY=""; [ "$len" -gt 0 ] && read -r -N "$len" BODY <&3
}
post() {
  exec 4<>/dev/tcp/$host/$port
  printf 'POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$1" "${#2}" "$2" >&4
  cat <&4 >/dev/null
}
"#;

struct Script(PathBuf);

impl Script {
    fn new(name: &str, body: &str) -> Script {
        use std::os::unix::fs::PermissionsExt;
        let path =
            std::env::temp_dir().join(format!("fake-runtime-{}-{name}.sh", std::process::id()));
        std::fs::write(&path, format!("{PRELUDE}{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Script(path)
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn env() -> Vec<(String, String)> {
    vec![("GREETING".into(), "hello".into())]
}

fn start<'a>(binary: &'a Path, env: &'a [(String, String)]) -> Start<'a> {
    Start {
        binary,
        env,
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:echo",
        timeout: Duration::from_secs(10),
        output: Output::StderrInError,
    }
}

#[tokio::test]
async fn the_event_is_served_once_and_the_answer_comes_back() {
    // Echoes the event with its request id, the ARN and a variable of its
    // environment; then asks again (held open until it is killed).
    let script = Script::new(
        "echo",
        r#"next
id=$(printf '%s' "$HEAD" | sed -n 's/^lambda-runtime-aws-request-id: *//Ip')
arn=$(printf '%s' "$HEAD" | sed -n 's/^lambda-runtime-invoked-function-arn: *//Ip')
post "/2018-06-01/runtime/invocation/$id/response" "{\"event\":$BODY,\"arn\":\"$arn\",\"greeting\":\"$GREETING\",\"id\":\"$id\"}"
next
echo "a second event was served" >&2
"#,
    );
    let env = env();
    let run = run(&start(&script.0, &env), Some(json!({"n": 1})))
        .await
        .unwrap();
    let Some(Answer::Response(answer)) = run.answer else {
        panic!("no response: {:?}", run.answer);
    };
    assert_eq!(
        answer,
        json!({
            "event": {"n": 1},
            "arn": "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "greeting": "hello",
            "id": lite_fake_runtime::REQUEST_ID,
        })
    );
    assert!(run.init > Duration::ZERO && run.init < Duration::from_secs(10));
}

#[tokio::test]
async fn without_an_event_the_start_ends_at_the_first_next() {
    let script = Script::new("idle", "next\necho served >&2\nexit 3\n");
    let env = env();
    let run = run(&start(&script.0, &env), None).await.unwrap();
    assert!(run.answer.is_none());
    assert!(run.init < Duration::from_secs(10));
}

#[tokio::test]
async fn an_error_answer_carries_its_type_and_message() {
    let script = Script::new(
        "fails",
        r#"next
post "/2018-06-01/runtime/invocation/x/error" '{"errorType":"Handler.Failed","errorMessage":"no luck"}'
sleep 5
"#,
    );
    let env = env();
    let run = run(&start(&script.0, &env), Some(json!({}))).await.unwrap();
    match run.answer {
        Some(Answer::Error(kind, message)) => {
            assert_eq!(
                (kind.as_str(), message.as_str()),
                ("Handler.Failed", "no luck")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_init_error_or_an_early_exit_fails_the_start_with_its_stderr() {
    let reported = Script::new(
        "init-error",
        r#"post /2018-06-01/runtime/init/error '{"errorType":"Runtime.Config","errorMessage":"TABLE_NAME is not set"}'
sleep 5
"#,
    );
    let env = env();
    let err = run(&start(&reported.0, &env), None).await.unwrap_err();
    assert!(
        err.starts_with("init error: Runtime.Config: TABLE_NAME is not set"),
        "{err}"
    );

    let crashed = Script::new("crash", "echo 'cannot start: bad config' >&2\nexit 1\n");
    let err = run(&start(&crashed.0, &env), None).await.unwrap_err();
    assert!(err.contains("before asking for an event"), "{err}");
    assert!(err.contains("cannot start: bad config"), "{err}");
}

#[tokio::test]
async fn a_start_with_no_next_times_out() {
    let script = Script::new("silent", "sleep 30\n");
    let env = env();
    let mut s = start(&script.0, &env);
    s.timeout = Duration::from_millis(300);
    let err = run(&s, None).await.unwrap_err();
    assert!(err.contains("no invocation/next within"), "{err}");
}

#[tokio::test]
async fn append_writes_the_childs_output_to_the_log() {
    let script = Script::new("logs", "echo to-stdout\necho to-stderr >&2\nnext\n");
    let log = std::env::temp_dir().join(format!("fake-runtime-{}-log.txt", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let env = env();
    let mut s = start(&script.0, &env);
    s.output = Output::Append(&log);
    run(&s, None).await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        text.contains("to-stdout") && text.contains("to-stderr"),
        "{text}"
    );
}
