-- wrk script: one POST body and key for every request (KEY, BODY from the environment).
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("KEY")
if key and #key > 0 then
  wrk.headers["Authorization"] = "Bearer " .. key
end
