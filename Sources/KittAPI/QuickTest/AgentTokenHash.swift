import KittStore

/// `agents.token_hash` is the SHA-256 hex of the agent's token.
func agentTokenHash(_ token: String) -> String {
    SHA256.hex(token)
}

/// True when `token` hashes to `storedHash` (compared in constant time).
func agentTokenMatches(_ token: String, storedHash: String?) -> Bool {
    guard let storedHash, !storedHash.isEmpty else { return false }
    return Auth.constantTimeEquals(agentTokenHash(token), storedHash.lowercased())
}

