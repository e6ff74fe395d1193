"""A minimal FastAPI backend of the upload progress wire protocol v1.1 (PROTOCOL.md).

Jobs live in memory. POST /ws/test/{id} starts a scripted four-stage job,
like the dev server's; progress is served over WebSocket and HTTP polling on
/ws/progress/{id}, and for many jobs at once over the page socket /ws/page,
the set poll /ws/page/poll and the event stream /ws/page/events. Run it with:

    python app.py --addr 127.0.0.1:8000      # prints "listening on http://..."

GRACE_MS (default 10000) is how long a socket for an unknown id waits for
its job before close 4404. Browser pages on other origins need
--allow-origin ORIGIN (repeatable) or --allow-loopback-origins; a request
from any other origin gets 403 origin_not_allowed. --test-endpoints turns on
POST /test/drop-sockets and GET /test/stats/{id}, for tests only.
"""

import argparse
import asyncio
import copy
import hashlib
import json
import os
import re
import socket
import sys
import time

import uvicorn
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
STAGES = [("upload", "Upload received"), ("text_extraction", "Text extraction"),
          ("indexing", "Indexing"), ("finalize", "Finalize")]
TERMINAL = {"completed", "failed", "cancelled"}
MAX_MESSAGE_BYTES = 64 * 1024
MAX_SUBSCRIPTIONS = 100
GRACE_S = int(os.environ.get("GRACE_MS", "10000")) / 1000
LOOPBACK_ORIGIN = r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?"


def now_ms():
    return int(time.time() * 1000)


def valid_id(pid):
    return ID_RE.fullmatch(pid) is not None


def placeholder(pid):
    """The seq 0 snapshot of a valid id without a job (PROTOCOL.md 4.5)."""
    return {"process_id": pid, "seq": 0, "state": "pending", "stage": None,
            "stage_index": 0, "stage_count": 0, "stages": [], "percent": 0.0,
            "message": "", "error": None, "updated_at_ms": now_ms()}


class Store:
    """The only writer of job state: seq +1 per change, percent never lower."""

    def __init__(self):
        self.jobs = {}
        self.changed = asyncio.Condition()

    async def create(self, progress):
        async with self.changed:
            progress.update(seq=1, updated_at_ms=now_ms())
            self.jobs[progress["process_id"]] = progress
            self.changed.notify_all()

    async def update(self, pid, change):
        async with self.changed:
            current = self.jobs[pid]
            if current["state"] in TERMINAL:
                return
            nxt = copy.deepcopy(current)
            change(nxt)
            nxt["seq"] = current["seq"] + 1
            nxt["percent"] = min(100.0, max(float(nxt["percent"]), current["percent"]))
            nxt["updated_at_ms"] = max(now_ms(), current["updated_at_ms"])
            self.jobs[pid] = nxt
            self.changed.notify_all()

    async def newer_than(self, pid, seq):
        """Waits until job `pid` exists with a seq above `seq`; returns that state."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.jobs.get(pid, {"seq": -1})["seq"] > seq)
            return self.jobs[pid]


class Sockets:
    """The open progress sockets, and per-job counters once the test endpoints are on."""

    def __init__(self):
        self.open = set()  # one asyncio.Event per socket; setting it drops the socket
        self.counts = None

    def count(self, pid, key, delta=1):
        if self.counts is not None:
            job = self.counts.setdefault(pid, {"ws_opened": 0, "ws_active": 0, "http_requests": 0})
            job[key] += delta


store = Store()
sockets = Sockets()
app = FastAPI(title="upload progress protocol v1 example")
background = set()


def error(status, code, message, headers=None):
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


@app.exception_handler(HTTPException)
async def http_error(_request, exc):
    # Keeps Starlette's headers, among them the Allow of a 405.
    return error(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail),
                 headers=getattr(exc, "headers", None))


@app.exception_handler(RequestValidationError)
async def bad_query(_request, exc):
    return error(400, "bad_query", str(exc.errors()))


@app.get("/ws/health")
async def health():
    return {"status": "healthy"}


@app.get("/ws/progress/{pid}")
async def poll(pid: str, request: Request):
    if not valid_id(pid):
        return error(400, "invalid_process_id", "process_id must be 1..=128 of [A-Za-z0-9_-]")
    sockets.count(pid, "http_requests")
    progress = store.jobs.get(pid)
    if progress is None:
        return error(404, "unknown_process", "no job with this process_id")
    etag = f'"{progress["seq"]}"'
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    tags = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if any(t == "*" or t.removeprefix("W/") == etag for t in tags):
        return Response(status_code=304, headers=headers)
    return JSONResponse({"progress": progress}, headers=headers)


@app.post("/ws/test/{pid}", status_code=202)
async def test_job(pid: str, step_ms: int = 400, steps_per_stage: int = 5, fail_at_stage: int | None = None):
    if not valid_id(pid):
        return error(400, "invalid_process_id", "process_id must be 1..=128 of [A-Za-z0-9_-]")
    if not (0 <= step_ms <= 60000 and 1 <= steps_per_stage <= 1000):
        return error(400, "bad_query", "step_ms must be 0..=60000 and steps_per_stage 1..=1000")
    if fail_at_stage is not None and not 0 <= fail_at_stage < len(STAGES):
        return error(400, "bad_query", f"fail_at_stage must be within 0..{len(STAGES) - 1}")
    if pid in store.jobs:
        return error(409, "process_exists", "a job with this process_id already exists")
    progress = placeholder(pid)
    progress.update(state="running", stage_count=len(STAGES), stages=[
        {"name": n, "label": label, "status": "pending"} for n, label in STAGES])
    enter_stage(progress, 0)
    await store.create(progress)
    task = asyncio.create_task(run_job(pid, step_ms / 1000, steps_per_stage, fail_at_stage))
    background.add(task)
    task.add_done_callback(background.discard)
    return {"process_id": pid}


def enter_stage(p, index):
    for i, stage in enumerate(p["stages"]):
        stage["status"] = "done" if i < index else "active" if i == index else "pending"
    p.update(stage_index=index, stage=STAGES[index][0], message=f"{STAGES[index][1]}...")


def fail_stage(p, index):
    for i, stage in enumerate(p["stages"]):
        stage["status"] = "done" if i < index else "failed" if i == index else "skipped"
    p.update(stage_index=index, stage=STAGES[index][0], state="failed",
             message=f"{STAGES[index][1]} failed", error=f"scripted failure at stage {index}")


def finish(p):
    for stage in p["stages"]:
        stage["status"] = "done"
    p.update(state="completed", percent=100.0, message="Done")


async def run_job(pid, step_s, steps, fail_at):
    total = len(STAGES) * steps
    for index in range(len(STAGES)):
        if index == fail_at:
            await store.update(pid, lambda p: fail_stage(p, index))
            return
        if index > 0:
            await store.update(pid, lambda p: enter_stage(p, index))
        for step in range(1, steps + 1):
            await asyncio.sleep(step_s)
            percent = (index * steps + step) * 100.0 / total
            await store.update(pid, lambda p: p.update(percent=percent))
    await store.update(pid, finish)


async def send(ws, lock, frame):
    async with lock:
        await ws.send_text(json.dumps(frame))


async def read_client(ws, lock):
    """Answers pings; refuses anything else without closing (oversized: 1009)."""
    while True:
        msg = await ws.receive()
        if msg["type"] == "websocket.disconnect":
            return
        text, data = msg.get("text"), msg.get("bytes")
        size = len(text.encode()) if text is not None else len(data or b"")
        if size > MAX_MESSAGE_BYTES:
            await send(ws, lock, {"type": "error", "code": "message_too_big",
                                  "message": f"messages are limited to {MAX_MESSAGE_BYTES} bytes"})
            await ws.close(1009)
            return
        if text is None:
            await send(ws, lock, {"type": "error", "code": "unsupported_frame",
                                  "message": "binary frames are not supported"})
            continue
        try:
            m = json.loads(text)
        except ValueError:
            m = None
        ping_id = m.get("id") if isinstance(m, dict) and m.get("type") == "ping" else None
        if isinstance(ping_id, int) and not isinstance(ping_id, bool) and 0 <= ping_id < 2**64:
            await send(ws, lock, {"type": "pong", "id": ping_id, "server_ts_ms": now_ms()})
        else:
            await send(ws, lock, {"type": "error", "code": "bad_message",
                                  "message": "expected {\"type\":\"ping\",\"id\":<u64>}"})


@app.websocket("/ws/progress/{pid}")
async def progress_socket(ws: WebSocket, pid: str):
    await ws.accept()
    lock = asyncio.Lock()
    if not valid_id(pid):
        await send(ws, lock, {"type": "error", "code": "invalid_process_id",
                              "message": "process_id must be 1..=128 of [A-Za-z0-9_-]"})
        await ws.close(4400)
        return
    dropped = asyncio.Event()
    sockets.open.add(dropped)
    sockets.count(pid, "ws_opened")
    sockets.count(pid, "ws_active")
    tasks = {}  # the reader, the drop watch and the current wait for news, cancelled at the end
    try:
        current = store.jobs.get(pid) or placeholder(pid)
        await send(ws, lock, {"type": "snapshot", "progress": current})
        if current["state"] in TERMINAL:
            await ws.close(1000)
            return
        grace_end = None if pid in store.jobs else asyncio.get_running_loop().time() + GRACE_S
        reader = tasks["reader"] = asyncio.create_task(read_client(ws, lock))
        dropper = tasks["dropper"] = asyncio.create_task(dropped.wait())
        seq = current["seq"]
        while True:
            waiter = tasks["waiter"] = asyncio.create_task(store.newer_than(pid, seq))
            timeout = None if grace_end is None else max(0.0, grace_end - asyncio.get_running_loop().time())
            done, _ = await asyncio.wait({reader, waiter, dropper}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if dropper in done:  # returning without a close frame: uvicorn cuts the TCP connection
                return
            if waiter not in done:
                if reader not in done:  # the grace ran out
                    await send(ws, lock, {"type": "error", "code": "unknown_process",
                                          "message": "no job with this process_id appeared in time"})
                    await ws.close(4404)
                return
            progress, grace_end = waiter.result(), None
            seq = progress["seq"]
            await send(ws, lock, {"type": "progress", "progress": progress})
            if progress["state"] in TERMINAL:
                await ws.close(1000)
                return
    except Exception:  # the peer went away mid-send: nothing left to do
        return
    finally:
        for task in tasks.values():
            task.cancel()
        sockets.open.discard(dropped)
        sockets.count(pid, "ws_active", -1)


# Protocol v1.1: many jobs over one connection (PROTOCOL.md 11).

def job_error(pid, code, message):
    """An error frame about one job: that job ends, the connection goes on."""
    return {"type": "error", "process_id": pid, "code": code, "message": message}


async def follow(pid):
    """One job's frames on a page connection: its snapshot, every newer state,
    and an error frame if no job appears within the grace; ends with the job."""
    loop = asyncio.get_running_loop()
    current = store.jobs.get(pid) or placeholder(pid)
    yield {"type": "snapshot", "progress": current}
    if current["state"] in TERMINAL:
        return
    grace_end = None if pid in store.jobs else loop.time() + GRACE_S  # the grace starts at the subscription
    seq = current["seq"]
    while True:
        timeout = None if grace_end is None else max(0.0, grace_end - loop.time())
        try:
            progress = await asyncio.wait_for(store.newer_than(pid, seq), timeout)
        except asyncio.TimeoutError:
            yield job_error(pid, "unknown_process", "no job with this process_id appeared in time")
            return
        grace_end, seq = None, progress["seq"]
        yield {"type": "progress", "progress": progress}
        if progress["state"] in TERMINAL:
            return


def refusal(pid):
    """Why `pid` cannot be followed at all, as an error frame, or None."""
    if not isinstance(pid, str) or not valid_id(pid):
        return job_error(str(pid), "invalid_process_id", "process_id must be 1..=128 of [A-Za-z0-9_-]")
    return None


async def pump(pid, emit):
    """Sends every frame of job `pid` through `emit`."""
    async for frame in follow(pid):
        await emit(frame)


@app.websocket("/ws/page")
async def page_socket(ws: WebSocket):
    await ws.accept()
    lock = asyncio.Lock()
    subs = {}  # process_id -> the task following it
    dropped = asyncio.Event()
    sockets.open.add(dropped)

    async def emit(frame):
        await send(ws, lock, frame)

    async def subscribe(jobs):
        if not isinstance(jobs, list):
            return await emit({"type": "error", "code": "bad_message", "message": "`jobs` must be a list"})
        if len(jobs) > MAX_SUBSCRIPTIONS:
            return await emit({"type": "error", "code": "too_many_subscriptions",
                               "message": f"one connection follows at most {MAX_SUBSCRIPTIONS} jobs"})
        for job in jobs:
            pid = job.get("process_id") if isinstance(job, dict) else None
            refused = refusal(pid)
            if refused:
                await emit(refused)
                continue
            old = subs.pop(pid, None)
            if old is not None:  # followed afresh: a new snapshot, no new slot
                old.cancel()
            elif len([t for t in subs.values() if not t.done()]) >= MAX_SUBSCRIPTIONS:
                await emit(job_error(pid, "too_many_subscriptions",
                                     f"this connection already follows {MAX_SUBSCRIPTIONS} jobs, the most it may"))
                continue
            subs[pid] = asyncio.create_task(pump(pid, emit))

    async def read():
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            text, data = msg.get("text"), msg.get("bytes")
            size = len(text.encode()) if text is not None else len(data or b"")
            if size > MAX_MESSAGE_BYTES:
                await emit({"type": "error", "code": "message_too_big",
                            "message": f"messages are limited to {MAX_MESSAGE_BYTES} bytes"})
                await ws.close(1009)
                return
            if text is None:
                await emit({"type": "error", "code": "unsupported_frame", "message": "binary frames are not supported"})
                continue
            try:
                m = json.loads(text)
            except ValueError:
                m = None
            kind = m.get("type") if isinstance(m, dict) else None
            ping_id = m.get("id") if kind == "ping" else None
            if kind == "subscribe":
                await subscribe(m.get("jobs"))
            elif kind == "unsubscribe" and isinstance(m.get("process_ids"), list):
                for pid in m["process_ids"]:
                    task = subs.pop(pid, None) if isinstance(pid, str) else None
                    if task is not None:
                        task.cancel()
            elif isinstance(ping_id, int) and not isinstance(ping_id, bool) and 0 <= ping_id < 2**64:
                await emit({"type": "pong", "id": ping_id, "server_ts_ms": now_ms()})
            else:
                await emit({"type": "error", "code": "bad_message",
                            "message": "expected subscribe, unsubscribe or ping"})

    reader = asyncio.create_task(read())
    dropper = asyncio.create_task(dropped.wait())
    try:
        await asyncio.wait({reader, dropper}, return_when=asyncio.FIRST_COMPLETED)
    except Exception:  # the peer went away mid-send
        pass
    finally:
        for task in [reader, dropper, *subs.values()]:
            task.cancel()
        sockets.open.discard(dropped)


def job_set(request):
    """The asked jobs as (id, token) pairs, or an error answer (PROTOCOL.md 11.4)."""
    ids = [i for i in request.query_params.get("ids", "").split(",")] if request.query_params.get("ids") else []
    if not ids:
        return None, error(400, "bad_query", "name the jobs as ?ids=a,b,c")
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_SUBSCRIPTIONS:
        return None, error(400, "too_many_subscriptions", f"one request follows at most {MAX_SUBSCRIPTIONS} jobs")
    return unique, None


@app.get("/ws/page/poll")
async def set_poll(request: Request):
    ids, refused = job_set(request)
    if refused:
        return refused
    entries = []
    for pid in ids:
        if not valid_id(pid):
            entries.append({"process_id": pid, "error": {"code": "invalid_process_id",
                                                          "message": "process_id must be 1..=128 of [A-Za-z0-9_-]"}})
        elif pid in store.jobs:
            entries.append({"process_id": pid, "progress": store.jobs[pid]})
        else:
            entries.append({"process_id": pid, "error": {"code": "unknown_process", "message": "no job with this process_id"}})
    # One tag for the set: every id with its seq or error code, hashed.
    summary = ";".join(f'{e["process_id"]}={e["progress"]["seq"] if "progress" in e else e["error"]["code"]}' for e in entries)
    etag = '"' + hashlib.sha256(summary.encode()).hexdigest()[:16] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    tags = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if any(t == "*" or t.removeprefix("W/") == etag for t in tags):
        return Response(status_code=304, headers=headers)
    return JSONResponse({"jobs": entries}, headers=headers)


# A quiet event stream sends a keepalive event this often (PROTOCOL.md 11.5).
KEEPALIVE_S = 15


@app.get("/ws/page/events")
async def job_events(request: Request):
    ids, refused = job_set(request)
    if refused:
        return refused
    queue = asyncio.Queue(maxsize=64)

    async def stream():
        tasks = []
        for pid in ids:
            refused_frame = refusal(pid)
            if refused_frame:
                await queue.put(refused_frame)
            else:
                tasks.append(asyncio.create_task(pump(pid, queue.put)))
        done = asyncio.gather(*tasks, return_exceptions=True)  # a future that ends with the last job
        getter = None
        try:
            yield "retry: 1000\n\n"
            while not (done.done() and queue.empty()):
                getter = asyncio.create_task(queue.get())
                finished, _ = await asyncio.wait(
                    {getter, done}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in finished:
                    yield f"data: {json.dumps(getter.result())}\n\n"
                    continue
                getter.cancel()
                if not finished:  # quiet for KEEPALIVE_S: a sign of life EventSource can see
                    yield 'data: {"type":"keepalive"}\n\n'
        finally:  # the last job ended, or the client went away
            for task in [getter, *tasks]:  # `done` then ends by itself
                if task is not None:
                    task.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def drop_sockets():
    """Test endpoint: ends every progress socket abruptly, with no close frame."""
    for dropped in sockets.open:
        dropped.set()
    return {"dropped": len(sockets.open)}


async def job_stats(pid: str):
    """Test endpoint: the sockets opened and open now, and the polls, of one job."""
    return sockets.counts.get(pid, {"ws_opened": 0, "ws_active": 0, "http_requests": 0})


class OriginCheck:
    """Refuses requests and socket upgrades whose Origin header is not allowed
    (403 origin_not_allowed); requests without one are not from a browser page."""

    def __init__(self, app, allowed):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope, receive, send):
        origin = Headers(scope=scope).get("origin") if scope["type"] in ("http", "websocket") else None
        if origin is None or self.allowed(origin):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
            return await send({"type": "websocket.close", "code": 1008})
        await error(403, "origin_not_allowed", f"origin {origin} is not allowed")(scope, receive, send)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:8000", help="ip:port; port 0 picks a free one")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a browser origin allowed to use the API, e.g. https://app.example.com")
    parser.add_argument("--allow-loopback-origins", action="store_true",
                        help="also allow any http://127.0.0.1:*, http://localhost:*, http://[::1]:* origin")
    parser.add_argument("--test-endpoints", action="store_true",
                        help="POST /test/drop-sockets and GET /test/stats/{id}; never in production")
    args = parser.parse_args()
    origins = {o.rstrip("/") for o in args.allow_origin}
    loopback = LOOPBACK_ORIGIN if args.allow_loopback_origins else None
    app.add_middleware(OriginCheck, allowed=lambda o: o in origins or bool(loopback and re.fullmatch(loopback, o)))
    app.add_middleware(CORSMiddleware, allow_origins=sorted(origins), allow_origin_regex=loopback,
                       allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type", "If-None-Match"],
                       expose_headers=["ETag"])
    if args.test_endpoints:
        sockets.counts = {}
        app.add_api_route("/test/drop-sockets", drop_sockets, methods=["POST"])
        app.add_api_route("/test/stats/{pid}", job_stats, methods=["GET"])
    host, _, port = args.addr.rpartition(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"listening on http://{bound_host}:{bound_port}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws_max_size=4 * MAX_MESSAGE_BYTES))
    server.run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
