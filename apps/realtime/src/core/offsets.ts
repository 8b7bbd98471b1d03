// The offset format is part of the wire contract: the browser client compares offsets too.
export { compareOffsets, parseOffset } from "@mechamap/protocol";
