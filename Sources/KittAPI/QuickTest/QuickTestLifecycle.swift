import KittHTTP
import KittJSON
import KittStore

/// The one path every quick test status change takes (the status endpoint, the agent's
/// results report, the campaign runner's timeout sweep): persist, publish `status`, and tell
/// the campaign runner at once so a campaign advances without polling.
public enum QuickTestLifecycle {
    /// Statuses an agent (or an admin) may set.
    public static let reportableStatuses: Set<String> = ["running", "completed", "failed"]

    /// Sets the status of `testID` (`running` | `completed` | `failed`, or `cancelled` from the
    /// server itself). Publishes `status` only when the status really changed (one state change,
    /// one event: SPEC §7.1). Returns false when there is no such test — or, with `agentID` (the
    /// caller used that agent's token), when it is another agent's: then nothing changes and
    /// nothing is published. Throws a 400 for another status.
    @discardableResult
    public static func setStatus(
        context: APIContext, testID: String, status: String, error: String?, agentID: String? = nil
    ) throws -> Bool {
        guard reportableStatuses.contains(status) || status == "cancelled" else {
            throw HTTPError.badRequest("'status' must be one of running, completed, failed; got '\(status)'")
        }
        guard
            let transition = try context.store.quickTests.transition(
                id: testID, to: status, error: error, agentID: agentID)
        else {
            return false
        }
        let test = transition.test
        if transition.changed { publishStatus(context: context, test: test) }
        if test.isFinished, let campaignID = test.campaignID {
            CampaignRunner.runner(for: context)?.testFinished(campaignID: campaignID)
        }
        return true
    }

    /// A heartbeat handed out the test's command: it is `dispatched` now (SPEC §7.1).
    static func didDispatch(context: APIContext, test: QuickTest?) {
        guard let test else { return }
        publishStatus(context: context, test: test)
    }

    /// `status` `{status, test_id, error?}` for the test, its agent and its campaign.
    static func publishStatus(context: APIContext, test: QuickTest) {
        var data = JSONObject([("status", .string(test.status)), ("test_id", .string(test.id))])
        if let error = test.error { data["error"] = .string(error) }
        context.events.publish("status", sources: sources(of: test), data: .object(data))
    }

    static func sources(of test: QuickTest) -> [String] {
        var sources = [test.id, test.agentID]
        if let campaignID = test.campaignID { sources.append(campaignID) }
        return sources
    }
}
