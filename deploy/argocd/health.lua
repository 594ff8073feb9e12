-- Argo CD health check for etcdhealth.io/EtcdHealthCheck (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Shipped inside argocd-cm-patch.yaml; keep the two identical (a unit test checks it).
--   Suspended    spec.suspend is true: checks are stopped, the status is old news.
--   Progressing  no check yet, or the operator has not observed the latest spec (observedGeneration),
--                or an automated remediation runs (Progressing=True).
--   Degraded     Available=False (no leader or quorum), Degraded=True (a check is critical), or
--                Available=Unknown (the operator cannot tell: never silently healthy).
--   Healthy      Available=True and Degraded not True.
local hs = {}

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Checks are suspended (spec.suspend is true)"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the first check"
  return hs
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to check generation " .. tostring(generation)
  return hs
end

local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  if condition.type ~= nil then
    conditions[condition.type] = condition
  end
end

local function text(condition, fallback)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local available = conditions["Available"]
local degraded = conditions["Degraded"]
local progressing = conditions["Progressing"]

if available ~= nil and available.status == "False" then
  hs.status = "Degraded"
  hs.message = text(available, "etcd is not available")
  return hs
end

if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = text(degraded, "A check is critical")
  return hs
end

if available ~= nil and available.status == "Unknown" then
  hs.status = "Degraded"
  hs.message = "Availability of etcd is unknown: " .. text(available, "no data")
  return hs
end

if progressing ~= nil and progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = text(progressing, "An automated remediation is under way")
  return hs
end

if available ~= nil and available.status == "True" then
  hs.status = "Healthy"
  hs.message = text(available, "etcd is available")
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the Available condition"
return hs
