-- Wireshark dissector for Megzawicol session-layer (L5) frames over TCP.
--
-- Frame layout (big-endian; include/megzawicol/l5/session_wire.hpp has the diagram):
--   magic "MZ" (2) | version (1) | type (1) | flags (1) | payload length (4)
--   | session id (16, UUID) | timestamp (8, ns) | payload (length)
-- DATA payloads are TLS records and are handed to the "tls" dissector.
--
-- Load:   tshark -X lua_script:tools/megzawicol_session.lua -r capture.pcap
-- Frames are found heuristically on any TCP port (magic, version 1, a known type and
-- valid flags at the start of a segment); a port can also be forced with
--   -d tcp.port==7000,megzawicol_session
-- Frames split across TCP segments are reassembled (dissect_tcp_pdus on the length field).
-- Known limit (tshark 4.0.17): when only the heuristic finds the protocol, a frame that
-- starts in the very segment where the heuristic first claims the connection and ends in a
-- later one is not reassembled (TCP drops that first reassembly request); frames split
-- after it are. Use -d tcp.port==N,megzawicol_session (Decode As) to be safe.

local proto = Proto("megzawicol_session", "Megzawicol Session")

local HEADER_LEN = 33
local type_names = { [1] = "OPEN", [2] = "RESUME", [3] = "ACCEPT", [4] = "REFUSE", [5] = "DATA", [6] = "CLOSE" }
local state_names = { [1] = "NEW", [2] = "ACTIVE", [3] = "RESUMED", [4] = "EXPIRED", [5] = "CLOSED" }

local pf = {
  magic = ProtoField.uint16("megzawicol_session.magic", "Magic", base.HEX),
  version = ProtoField.uint8("megzawicol_session.version", "Version", base.DEC),
  type = ProtoField.uint8("megzawicol_session.type", "Type", base.DEC, type_names),
  flags = ProtoField.uint8("megzawicol_session.flags", "Flags", base.HEX),
  flag_end = ProtoField.bool("megzawicol_session.flags.end", "END (session ends, not resumable)", 8, nil, 0x01),
  length = ProtoField.uint32("megzawicol_session.length", "Payload length", base.DEC),
  id = ProtoField.guid("megzawicol_session.id", "Session id"),
  timestamp = ProtoField.uint64("megzawicol_session.timestamp", "Timestamp (ns)", base.DEC),
  state = ProtoField.uint8("megzawicol_session.state", "State", base.DEC, state_names),
  reason = ProtoField.string("megzawicol_session.reason", "Reason", base.UNICODE),
  data = ProtoField.bytes("megzawicol_session.data", "Data"),
}
proto.fields = pf

local ef = {
  bad_magic = ProtoExpert.new("megzawicol_session.bad_magic", "Bad magic (expected \"MZ\")",
                              expert.group.MALFORMED, expert.severity.ERROR),
  bad_version = ProtoExpert.new("megzawicol_session.bad_version", "Unsupported version (expected 1)",
                                expert.group.MALFORMED, expert.severity.ERROR),
  bad_type = ProtoExpert.new("megzawicol_session.bad_type", "Unknown frame type",
                             expert.group.MALFORMED, expert.severity.ERROR),
  refused = ProtoExpert.new("megzawicol_session.refused", "Session refused",
                            expert.group.RESPONSE_CODE, expert.severity.NOTE),
}
proto.experts = { ef.bad_magic, ef.bad_version, ef.bad_type, ef.refused }

local tls = Dissector.get("tls")

-- Canonical 8-4-4-4-12 text of the 16 bytes at `range`.
local function uuid_text(range)
  local h = range:bytes():tohex():lower()
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
end

-- "12.500000000" from a UInt64 count of nanoseconds.
local function seconds_text(ns)
  local billion = UInt64(1000000000)
  return string.format("%s.%09d", tostring(ns / billion), (ns % billion):tonumber())
end

-- PDU length for dissect_tcp_pdus: header + the length field at offset 5.
local function pdu_len(tvb, pinfo, offset)
  return HEADER_LEN + tvb(offset + 5, 4):uint()
end

local function dissect_pdu(tvb, pinfo, tree)
  local ftype = tvb(3, 1):uint()
  local len = tvb(5, 4):uint()
  local tname = type_names[ftype] or ("type " .. ftype)
  local id = uuid_text(tvb(9, 16))

  local t = tree:add(proto, tvb(0, HEADER_LEN + len), "Megzawicol Session, " .. tname .. ", Id: " .. id)
  local magic = t:add(pf.magic, tvb(0, 2))
  if tvb(0, 2):uint() ~= 0x4d5a then magic:add_proto_expert_info(ef.bad_magic) end
  local ver = t:add(pf.version, tvb(2, 1))
  if tvb(2, 1):uint() ~= 1 then ver:add_proto_expert_info(ef.bad_version) end
  local ti = t:add(pf.type, tvb(3, 1))
  if not type_names[ftype] then ti:add_proto_expert_info(ef.bad_type) end
  local fl = t:add(pf.flags, tvb(4, 1))
  fl:add(pf.flag_end, tvb(4, 1))
  t:add(pf.length, tvb(5, 4))
  t:add(pf.id, tvb(9, 16))
  local ts = t:add(pf.timestamp, tvb(25, 8))
  ts:append_text(" (" .. seconds_text(tvb(25, 8):uint64()) .. " s)")

  local info = tname .. " " .. id
  if len > 0 then
    local payload = tvb(HEADER_LEN, len)
    if ftype == 3 then
      t:add(pf.state, payload(0, 1))
      info = info .. " " .. (state_names[payload(0, 1):uint()] or "?")
    elseif ftype == 4 then
      local r = t:add_packet_field(pf.reason, payload, ENC_UTF_8)
      r:add_proto_expert_info(ef.refused)
      info = info .. " \"" .. payload:string(ENC_UTF_8) .. "\""
    elseif ftype == 5 then
      t:add(pf.data, payload)
      info = info .. " len=" .. len
    end
  end
  if bit.band(tvb(4, 1):uint(), 1) ~= 0 then info = info .. " END" end

  pinfo.cols.protocol = "MZ-SESSION"
  pinfo.cols.info:append(" [" .. info .. "]")
  pinfo.cols.info:fence()

  if ftype == 5 and len > 0 and tls then
    tls:call(tvb(HEADER_LEN, len):tvb(), pinfo, tree)
  end
  return HEADER_LEN + len
end

function proto.dissector(tvb, pinfo, tree)
  dissect_tcp_pdus(tvb, tree, 9, pdu_len, dissect_pdu, true)
  return tvb:len()
end

-- A segment that starts a session frame: magic, version 1, a known type, valid flags.
local function heuristic(tvb, pinfo, tree)
  if tvb:len() < 5 then return false end
  if tvb(0, 2):uint() ~= 0x4d5a or tvb(2, 1):uint() ~= 1 then return false end
  local ftype = tvb(3, 1):uint()
  local flags = tvb(4, 1):uint()
  if not type_names[ftype] then return false end
  if flags ~= 0 and not (flags == 1 and ftype == 6) then return false end
  pinfo.conversation = proto  -- later segments of this connection, even mid-frame
  proto.dissector(tvb, pinfo, tree)
  return true
end

proto:register_heuristic("tcp", heuristic)
DissectorTable.get("tcp.port"):add_for_decode_as(proto)
