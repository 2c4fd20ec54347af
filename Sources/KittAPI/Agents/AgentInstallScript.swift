import KittBase
import KittHTTP
import KittJSON
import KittStore

/// `install.sh`, the package and the build context (SPEC §5, issue 3 item 6).
enum AgentBundleRoutes {
    static func register(in router: inout Router, context: APIContext, services: Services) {
        let bundles = AgentBundles(configDirectory: context.settings.configDirectory)
        let agents = services.agents

        // Registered behind `OffLoop`: the first bundle build reads, gzips and hashes the binary.
        // The bundle comes first, so nothing is provisioned when it cannot be built.
        router.get("/api/v1/agent/install.sh") { request in
            let query = try InstallQuery(request)
            let asked = AgentsService.Provisioning(
                name: query.name, port: query.port, isAdmin: InstallQuery.isAdmin(request, auth: context.auth))
            let package = try bundles.package()
            // HEAD runs this handler too: it must not rotate anyone's token.
            let isHead = request.method == .head
            // A fresh token: only its hash is stored; the plaintext exists only in this script.
            let token = AgentToken.make()
            return .committed({ done in
                agents.provision(asked, tokenHash: isHead ? nil : agentTokenHash(token)) { result in
                    done(result.mapError { error in
                        guard let refusal = error as? AgentsService.RotationNeedsAdmin else { return error }
                        return InstallQuery.rotationRefusal(request, name: refusal.name, auth: context.auth)
                    })
                }
            }) {
                if isHead { return .text("", contentType: "text/x-shellscript; charset=utf-8") }
                let script = InstallScript.render(
                    server: serverURL(request, settings: context.settings), token: token, name: query.name,
                    port: query.port, packageSHA256: package.sha256, caCertificatePEM: context.settings.caCertificatePEM,
                    engineURL: query.engineURL)
                var response = HTTPResponse.text(script, contentType: "text/x-shellscript; charset=utf-8")
                response.headers.add(name: "Cache-Control", value: "no-store")
                return response
            }
        }

        router.get("/api/v1/agent/package") { _ in
            try download(bundles.package())
        }
        router.get("/api/v1/agent/package/sha256") { _ in
            try digest(bundles.package())
        }
        router.get("/api/v1/agent/build-context") { _ in
            try download(bundles.buildContext())
        }
        router.get("/api/v1/agent/build-context/sha256") { _ in
            try digest(bundles.buildContext())
        }
    }

    private static func download(_ bundle: AgentBundles.Bundle) -> HTTPResponse {
        var response = HTTPResponse.data(bundle.bytes, contentType: "application/gzip")
        response.headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(bundle.filename)\"")
        return response
    }

    private static func digest(_ bundle: AgentBundles.Bundle) -> HTTPResponse {
        .json(.object(JSONObject([("sha256", .string(bundle.sha256)), ("filename", .string(bundle.filename))])))
    }

    /// How agents reach this server: the scheme from the settings (https whenever there is a
    /// CA to embed), the authority from the request's Host header when it looks like one.
    static func serverURL(_ request: HTTPRequest, settings: APISettings) -> String {
        let configured = settings.publicURL
        let scheme =
            settings.caCertificatePEM != nil ? "https" : (configured.hasPrefix("http://") ? "http" : "https")
        if let host = request.headers["Host"], !host.isEmpty, host.utf8.count <= 255,
            host.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
            })
        {
            return scheme + "://" + host
        }
        if let separator = configured.firstRange(of: "://") {
            return scheme + configured[separator.lowerBound...]
        }
        return configured
    }
}

enum AgentToken {
    /// 32 random bytes from the system CSPRNG, hex.
    static func make() -> String { SecureRandom.hex(bytes: 32) }
}

/// The bash installer. Every value from outside is single-quoted (`'` → `'\''`), so
/// nothing in a name, URL or certificate is ever expanded or executed.
enum InstallScript {
    static func quote(_ value: String) -> String {
        "'" + value.replacing("'", with: #"'\''"#) + "'"
    }

    static func render(
        server: String, token: String, name: String?, port: Int, packageSHA256: String, caCertificatePEM: String?,
        engineURL: String? = nil
    ) -> String {
        let nameLine = name.map { "AGENT_NAME=" + quote($0) } ?? #"AGENT_NAME="$(hostname)""#
        let caLine = "KITT_CA_PEM=" + quote(caCertificatePEM ?? "")
        return """
            #!/usr/bin/env bash
            # kitt agent installer, generated by kitt \(KittVersion.current).
            # It embeds a token for this agent: treat this file as a secret.
            set -euo pipefail

            KITT_SERVER=\(quote(server))
            KITT_TOKEN=\(quote(token))
            \(nameLine)
            AGENT_PORT=\(port)
            PACKAGE_SHA256=\(quote(packageSHA256))
            ENGINE_URL=\(quote(engineURL ?? ""))
            \(caLine)

            KITT_HOME="${HOME}/.kitt"
            umask 077
            mkdir -p "$KITT_HOME"

            # Trust exactly this server's CA for every download (never -k).
            CURL=(curl --fail --silent --show-error --location)
            if [ -n "$KITT_CA_PEM" ]; then
                printf '%s\\n' "$KITT_CA_PEM" > "$KITT_HOME/ca.pem"
                CURL+=(--cacert "$KITT_HOME/ca.pem")
            fi

            TMP="$(mktemp -d)"
            trap 'rm -rf "$TMP"' EXIT
            echo "Downloading the kitt agent from $KITT_SERVER"
            "${CURL[@]}" -o "$TMP/kitt-agent.tar.gz" "$KITT_SERVER/api/v1/agent/package"
            echo "$PACKAGE_SHA256  $TMP/kitt-agent.tar.gz" | sha256sum --check --status \\
                || { echo "kitt agent package: sha256 mismatch" >&2; exit 1; }

            rm -rf "$KITT_HOME/kitt-agent"
            tar -xzf "$TMP/kitt-agent.tar.gz" -C "$KITT_HOME"
            chmod 0755 "$KITT_HOME/kitt-agent/kitt"

            # The agent's configuration: written from the variables above, 0600.
            {
                printf 'server=%s\\n' "$KITT_SERVER"
                printf 'token=%s\\n' "$KITT_TOKEN"
                printf 'name=%s\\n' "$AGENT_NAME"
                printf 'port=%s\\n' "$AGENT_PORT"
                if [ -n "$KITT_CA_PEM" ]; then printf 'ca_file=%s\\n' "$KITT_HOME/ca.pem"; fi
                # The inference engine's OpenAI-compatible endpoint (?engine_url=); edit later if needed.
                if [ -n "$ENGINE_URL" ]; then printf 'engine_url=%s\\n' "$ENGINE_URL"; fi
            } > "$KITT_HOME/agent.conf"
            chmod 0600 "$KITT_HOME/agent.conf"

            # Start it: a systemd user service when available, else in the background.
            if command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; then
                mkdir -p "$HOME/.config/systemd/user"
                cp "$KITT_HOME/kitt-agent/kitt-agent.service" "$HOME/.config/systemd/user/kitt-agent.service"
                systemctl --user daemon-reload
                systemctl --user enable --now kitt-agent.service
                systemctl --user restart kitt-agent.service
                echo "kitt agent '$AGENT_NAME' started (systemctl --user status kitt-agent)"
            else
                nohup "$KITT_HOME/kitt-agent/kitt" agent --config "$KITT_HOME/agent.conf" \\
                    >> "$KITT_HOME/agent.log" 2>&1 &
                echo "kitt agent '$AGENT_NAME' started in the background (log: $KITT_HOME/agent.log)"
            fi

            """
    }
}
