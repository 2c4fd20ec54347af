import KittJSON
import Synchronization

/// Devon downloads this server started, newest first: `running` while Devon works, then
/// `completed` (with the path) or `failed` (with the error). Devon's API reports no byte
/// progress, so the state and how long it has run are what kitt can tell. Each change is
/// published as a `model_download` event. In memory: a restart forgets finished downloads.
final class ModelDownloads: Sendable {
    struct Download: Sendable {
        let id: Int
        let repoID: String
        let source: String
        var status: String
        let startedAt: String
        var finishedAt: String?
        var path: String?
        var error: String?

        var json: JSON {
            var object = JSONObject([
                ("id", .int(id)), ("repo_id", .string(repoID)), ("source", .string(source)),
                ("status", .string(status)), ("started_at", .string(startedAt)),
            ])
            if let finishedAt { object["finished_at"] = .string(finishedAt) }
            if let path { object["path"] = .string(path) }
            if let error { object["error"] = .string(error) }
            return .object(object)
        }
    }

    /// Finished downloads kept for the list (running ones are always kept).
    static let finishedKept = 50

    private let state = Mutex<(next: Int, downloads: [Download])>((1, []))
    private let events: EventBus

    init(events: EventBus) { self.events = events }

    /// Records a download that is starting and announces it; returns its id.
    func start(repoID: String, source: String) -> Int {
        let download = state.withLock { state -> Download in
            let download = Download(
                id: state.next, repoID: repoID, source: source, status: "running", startedAt: Timestamp.now())
            state.next += 1
            state.downloads.insert(download, at: 0)
            var finished = 0
            state.downloads.removeAll { item in
                guard item.status != "running" else { return false }
                finished += 1
                return finished > ModelDownloads.finishedKept
            }
            return download
        }
        announce(download)
        return download.id
    }

    /// Marks download `id` finished: a path on success, an error otherwise.
    func finish(id: Int, path: String?, error: String?) {
        let download = state.withLock { state -> Download? in
            guard let index = state.downloads.firstIndex(where: { $0.id == id }) else { return nil }
            state.downloads[index].status = path == nil ? "failed" : "completed"
            state.downloads[index].finishedAt = Timestamp.now()
            state.downloads[index].path = path
            state.downloads[index].error = error
            return state.downloads[index]
        }
        if let download { announce(download) }
    }

    var all: [JSON] { state.withLock { $0.downloads.map(\.json) } }

    private func announce(_ download: Download) {
        events.publish("model_download", sources: [], data: download.json)
    }
}
