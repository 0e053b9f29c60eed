-- wrk: every request a POST of 10 KiB, which /echo sends back.
wrk.method = "POST"
wrk.body = string.rep("x", 10240)
wrk.headers["Content-Type"] = "application/octet-stream"
