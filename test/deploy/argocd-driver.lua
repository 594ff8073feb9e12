-- Runs an Argo CD resource health script the way Argo CD does: the object is the global `obj`, and
-- the script's return value is the health ({status = ..., message = ...}).
-- Usage: lua5.4 argocd-driver.lua <health.lua> <object.lua>
-- <object.lua> returns the object as a Lua table; test/deploy/argocd-health.test.ts generates it
-- from the YAML/JSON object (integers stay integers, as gopher-lua prints its whole floats).
-- Output: the status on the first line, the message after it (it may span lines).
local script, object = arg[1], arg[2]
if script == nil or object == nil then
  error("usage: argocd-driver.lua <health.lua> <object.lua>")
end
obj = dofile(object)
local hs = dofile(script)
if type(hs) ~= "table" then
  error("the health script returned " .. type(hs) .. ", not a table")
end
io.write(tostring(hs.status), "\n", tostring(hs.message))
