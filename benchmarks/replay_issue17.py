"""Replay the reproductions of the request-budget issue against a real gunicorn on 127.0.0.1 and
print, per row, the status and error code it gets, its time, and the worker's peak RSS while it ran.

    .venv/bin/python -m benchmarks.replay_issue17                       # the shipped models
    .venv/bin/python -m benchmarks.replay_issue17 --app tests.reliability.slow_app:app   # stand-ins

Every row must end in a clear 4xx (or a correct 200) within 10 s with the worker under 1.5 GiB.
The workbook builders here are also what the regression tests use.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import socket
import threading
import time
import uuid
import zipfile

from .live_server import HOST, LiveServer, add_server_options, rss_kib, write_json

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def minimal_xlsx(sheet_xml: bytes, *, macro: bool = False, sheet_name: str = "Sheet1") -> bytes:
    """A one-sheet workbook around `sheet_xml` (a whole worksheet part), with a styles part."""
    main = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + ('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if macro else "")
            + f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '</Types>'),
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                       f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
                           f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
                                      f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
                                      f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN_NS}">'
                         '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
                         '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                         '<fill><patternFill patternType="gray125"/></fill></fills>'
                         '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                         '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                         '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
                         '</styleSheet>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if macro:
        files["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not a real VBA project"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def sheet_xml(rows: list[str] | str, tail: str = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
              'header="0.3" footer="0.3"/>') -> bytes:
    body = rows if isinstance(rows, str) else "".join(rows)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" '
            f'xmlns:r="{REL_NS}"><sheetData>{body}</sheetData>{tail}</worksheet>').encode()


def inflating_xlsx(sheet_mb: float, *, seed: int = 0) -> bytes:
    """A workbook whose one sheet is `sheet_mb` MB of XML: rows of ten numeric cells, with values
    varied just enough that the package compresses about 100:1 (inside the zip-bomb ratio)."""
    rng = random.Random(seed)
    rows, size, r = [], 0, 0
    while size < sheet_mb * 1e6:
        r += 1
        value = rng.randrange(100) if r % 4 == 0 else 1
        row = f'<row r="{r}">' + f"<c><v>{value}</v></c>" * 10 + "</row>"
        rows.append(row)
        size += len(row)
    return minimal_xlsx(sheet_xml(rows))


# ---------------------------------------------------------------------------- measuring one row

class PeakRss:
    """Samples the workers' RSS every 20 ms while a row runs; `peak_mib` is the highest seen."""

    def __init__(self, server: LiveServer):
        self.server, self.peak, self._stop = server, 0, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            for pid in self.server.worker_pids():
                try:
                    self.peak = max(self.peak, rss_kib(pid))
                except (FileNotFoundError, ProcessLookupError, ValueError):
                    pass
            self._stop.wait(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / 1024


def multipart(fields: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: values are str (fields) or (filename, bytes) (files)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            out.write(f'Content-Disposition: form-data; name="{name}"; filename="{value[0]}"\r\n'
                      "Content-Type: application/octet-stream\r\n\r\n".encode())
            out.write(value[1])
        else:
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            out.write(value.encode() if isinstance(value, str) else value)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def raw_request(port: int, data: bytes, timeout: float = 30.0) -> bytes:
    """Send raw bytes, return the raw answer (for bodies http.client will not send)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    try:
        code = json.loads(body.decode("utf-8", "replace")).get("error", {}).get("code", "")
    except ValueError:
        code = ""
    return status, code


def apply_request(server, workbook: bytes, rules: list, name: str = "book.xlsx", headers=None, rules_as_file=None):
    fields = {"workbook": (name, workbook)}
    fields["rules"] = (("rules.json", rules_as_file) if rules_as_file is not None else json.dumps(rules))
    body, content_type = multipart(fields)
    return server.request("POST", "/v1/cf/apply", body, headers={"Content-Type": content_type, **(headers or {})},
                          timeout=120)


def error_code(answer) -> str:
    status, body = answer
    return body.get("error", {}).get("code", "") if isinstance(body, dict) else ""


# ---------------------------------------------------------------------------- the rows

def rows(server: LiveServer):
    """(name, function returning (status, code)) per reproduction."""
    table = [["a"], [1], [2]]

    def post(path, body, **kw):
        answer = server.request("POST", path, body, timeout=120, **kw)
        return answer[0], error_code(answer)

    def huge_range():
        return post("/v1/cf/preview", {"rule": "=SUM($A$1:$XFD$1048576)>A2", "table": table})

    def inflating(mb):
        book = inflating_xlsx(mb)      # built before the row's clock starts

        def run():
            answer = apply_request(server, book, [{"rule": "GreaterThan(50)", "sheet": "Sheet1", "range": "A1:J100"}])
            return answer[0], error_code(answer)
        return run

    def dropped_streams():
        for _ in range(4):
            conn = server.connection(timeout=30)
            conn.request("GET", "/v1/cf/stream?request=highlight+sales+over+500&k=10&steps=1000")
            response = conn.getresponse()
            response.fp.readline()          # the start event's first line, then hang up
            conn.close()
        return post("/v1/cf/generate", {"request": "highlight sales over 500", "table": table, "k": 2})

    def slow_clients():
        socks = []
        for _ in range(4):
            sock = socket.create_connection((HOST, server.port), timeout=30)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(sock)
        stop = threading.Event()

        def trickle():
            while not stop.wait(2.0):
                for sock in socks:
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        time.sleep(0.5)
        try:
            return server.request("GET", "/healthz", timeout=120)[0], ""
        finally:
            stop.set()
            for sock in socks:
                sock.close()

    workbook = minimal_xlsx(sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'))
    rule_at = {"sheet": "Sheet1", "range": "A1:A5"}

    def apply_rule(rule):
        def run():
            answer = apply_request(server, workbook, [dict(rule_at, rule=rule)])
            return answer[0], error_code(answer)
        return run

    def chunked(size_hint: bytes):
        def run():
            head = (b"POST /v1/cf/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            return status_of(raw_request(server.port, head + size_hint))
        return run

    def big_chunked():
        body = json.dumps({"rule": "LessThan(5)", "table": [["a"]] + [["x" * 1000]] * 26_000}).encode()
        head = (b"POST /v1/cf/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        pieces = [head]
        for i in range(0, len(body), 1 << 20):
            piece = body[i:i + (1 << 20)]
            pieces.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        pieces.append(b"0\r\n\r\n")
        return status_of(raw_request(server.port, b"".join(pieces), timeout=60))

    def big_form_field():
        body, content_type = multipart({"workbook": ("b.xlsx", workbook),
                                        "rules": json.dumps([dict(rule_at, rule="TextEquals(" + "y" * 700_000 + ")")])})
        answer = server.request("POST", "/v1/cf/apply", body, headers={"Content-Type": content_type})
        return answer[0], error_code(answer)

    def bad_utf8_rules_file():
        answer = apply_request(server, workbook, [], rules_as_file=b'[{"rule": "TextEquals(\xff)", "sheet": "Sheet1", '
                                                                    b'"range": "A1:A5"}]')
        return answer[0], error_code(answer)

    def macro_as_xlsx():
        macro = minimal_xlsx(sheet_xml(""), macro=True)
        answer = apply_request(server, macro, [dict(rule_at, rule="LessThan(5)")], name="m.xlsx")
        return answer[0], error_code(answer)

    def foreign_host():
        return post("/v1/cf/validate", {"rule": "LessThan(5)"}, headers={"Host": "rebind.attacker.example"})

    def cross_origin():
        answer = apply_request(server, workbook, [dict(rule_at, rule="LessThan(5)")],
                               headers={"Origin": "https://attacker.example"})
        return answer[0], error_code(answer)

    def flat(terms):
        return lambda: post("/v1/cf/preview", {"rule": "=" + "+".join(["A2"] * terms) + ">0", "table": table})

    big_int = int("9" * 310)
    return [
        ("formula over the whole sheet (preview)", huge_range),
        ("sheet XML inflating to 100 MB (apply)", inflating(100)),
        ("sheet XML of 25 MB (apply)", inflating(25)),
        ("4 streams dropped after start, then generate", dropped_streams),
        ("4 slow clients, then /healthz", slow_clients),
        ("lone surrogate in an apply rule", apply_rule("TextContains(\ud83d)")),
        ("310-digit integer cell (preview)", lambda: post("/v1/cf/preview", {"rule": "LessThan(5)",
                                                                            "table": [["a"], [big_int]]})),
        ("310-digit integer cell (generate)", lambda: post("/v1/cf/generate", {"request": "values under 5",
                                                                              "table": [["a"], [big_int]]})),
        ("flat 300-term formula (preview)", flat(300)),
        ("flat 600-term formula (preview)", flat(600)),
        ("malformed chunked body", chunked(b"ZZZ\r\n{}\r\n0\r\n\r\n")),
        ("NUL in an apply rule", apply_rule("TextContains(a\u0000b)")),
        ("CR in an apply rule", apply_rule("TextContains(\"cr\rhere\")")),
        (".xlsm content named .xlsx", macro_as_xlsx),
        ("700 KB form field", big_form_field),
        ("26 MB chunked body", big_chunked),
        ("invalid UTF-8 in a rules file part", bad_utf8_rules_file),
        ("Host: rebind.attacker.example", foreign_host),
        ("cross-origin multipart POST", cross_origin),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_options(parser)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    env = {"CF_LOG_LEVEL": "WARNING"}
    if args.checkpoints:
        env["CF_SERVICE_CHECKPOINTS"] = args.checkpoints
    if args.app.startswith("tests.reliability.slow_app"):
        env["CF_FAKE_SECONDS_PER_STEP"] = "0.02"
    figures = []
    with LiveServer(app=args.app, workers=1, env=env, ready_timeout_s=300) as server:
        idle = max(rss_kib(pid) for pid in server.worker_pids()) / 1024
        print(f"gunicorn on {server.base_url}, 1 worker, idle worker RSS {idle:.0f} MiB")
        print(f"{'row':48} {'status':>6} {'code':28} {'seconds':>8} {'peak RSS MiB':>13}")
        for name, run in rows(server):
            with PeakRss(server) as rss:
                started = time.monotonic()
                try:
                    status, code = run()
                except OSError as err:
                    status, code = 0, type(err).__name__
                seconds = time.monotonic() - started
            figures.append({"row": name, "status": status, "code": code, "seconds": round(seconds, 2),
                            "peak_rss_mib": round(rss.peak_mib, 1)})
            print(f"{name:48} {status:>6} {code:28} {seconds:8.2f} {rss.peak_mib:13.0f}", flush=True)
        final = max(rss_kib(pid) for pid in server.worker_pids()) / 1024
        print(f"worker RSS after the replay {final:.0f} MiB")
    write_json(args.json, {"idle_rss_mib": idle, "final_rss_mib": final, "rows": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
