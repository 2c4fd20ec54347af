import KittNet

/// `agents.token_hash` is the lowercase SHA-256 hex of the agent's token.
func agentTokenHash(_ token: String) -> String {
    SHA256.hex(token)
}
