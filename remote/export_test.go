package remote

// ProtocolVersion is the protocol version this build speaks, for tests that
// handshake by hand.
const ProtocolVersion = protocolVersion
