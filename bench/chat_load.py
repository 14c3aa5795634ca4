"""Relayed chats from 4 keep-alive connections to a gateway on 127.0.0.1, for the scripts
that count what a request costs (bench/callgrind.sh, bench/copies.sh).

    python3 bench/chat_load.py PORT KEY COUNT [stream] [--fund]

--fund first tops up the key's user through the admin API. Any answer but a 200 stops the
script with a message."""
import http.client
import json
import sys
import threading


def main(argv):
    port, key, count = int(argv[1]), argv[2], int(argv[3])
    auth = {"authorization": "Bearer " + key, "content-type": "application/json"}

    def call(conn, method, path, body):
        conn.request(method, path, json.dumps(body).encode() if body is not None else None, auth)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
        return data

    if "--fund" in argv:
        c = http.client.HTTPConnection("127.0.0.1", port)
        me = json.loads(call(c, "GET", "/api/me", None))
        uid = me.get("user", me)["id"]
        call(c, "POST", f"/api/users/{uid}/balance", {"amount_nano": 10**15, "reason": "bench"})
    chat = {"model": "gpt-4o-mini", "max_tokens": 64, "stream": "stream" in argv,
            "messages": [{"role": "user", "content": "Say something short about relays."}]}

    def worker(k):
        w = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(k):
            call(w, "POST", "/v1/chat/completions", chat)

    threads = [threading.Thread(target=worker, args=(count // 4,)) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]


if __name__ == "__main__":
    main(sys.argv)
