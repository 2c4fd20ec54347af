import KittAPI
import KittJSON

/// Logs the state changes an operator wants in the log (SPEC §7.3): agents going online or
/// offline, quick tests and campaigns moving on. It listens to the event bus, so every change
/// the API publishes is logged once, with no logging code in the handlers.
enum LifecycleLog {
    static func attach(to events: EventBus, log: Log) {
        events.observe { event in
            guard let data = event.data.objectValue, let line = describe(event.type, data) else { return }
            log.lifecycle(event.type, line, fields: data)
        }
    }

    /// The text form, or nil for events that are not state changes (log lines).
    static func describe(_ type: String, _ data: JSONObject) -> String? {
        func field(_ key: String) -> String { data[key]?.stringValue ?? "?" }
        let error = data["error"]?.stringValue.map { ": \($0)" } ?? ""
        switch type {
        case "agent_status":
            return "agent \(field("name")) (\(field("agent_id"))) \(field("status"))"
        case "status" where data["test_id"] != nil:
            return "quick test \(field("test_id")) \(field("status"))\(error)"
        case "status" where data["campaign_id"] != nil:
            return "campaign \(field("campaign_id")) \(field("status"))\(error)"
        case "campaign_created":
            return "campaign \(field("campaign_id")) created (\(field("name")))"
        default:
            return nil
        }
    }
}
