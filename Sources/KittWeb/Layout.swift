/// The page chrome: head (assets, CSRF meta), header navigation, main.
enum Section: String, CaseIterable, Sendable {
    case dashboard, agents, quicktests, campaigns, results, models, profiles, settings

    var title: String {
        switch self {
        case .dashboard: "Dashboard"
        case .agents: "Agents"
        case .quicktests: "Quick tests"
        case .campaigns: "Campaigns"
        case .results: "Results"
        case .models: "Models"
        case .profiles: "Profiles"
        case .settings: "Settings"
        }
    }

    var path: String { self == .dashboard ? "/" : "/" + rawValue }
}

enum Layout {
    /// A whole document. `live`: SSE event types that refresh the page's live regions.
    static func document(title: String, section: Section?, viewer: Viewer, live: [String], content: HTML) -> HTML {
        HTML.trusted("<!doctype html>")
            + el("html", Attribute("lang", "en")) {
                el("head") {
                    void("meta", Attribute("charset", "utf-8"))
                    void("meta", .name("viewport"), Attribute("content", "width=device-width, initial-scale=1"))
                    void("meta", .name("csrf-token"), Attribute("content", viewer.csrfToken))
                    el("title") { title + " · KITT" }
                    void("link", Attribute("rel", "stylesheet"), .href(Assets.style.path))
                    el("script", .src(Assets.script.path), .flag("defer"))
                }
                element("body", live.isEmpty ? [] : [Attribute("data-live", live.joined(separator: " "))],
                    el("a", .class("skip"), .href("#main")) { "Skip to content" }
                    + header(section: section, viewer: viewer, live: !live.isEmpty)
                    + el("main", .id("main"), Attribute("tabindex", "-1")) { content })
            }
    }

    static func header(section: Section?, viewer: Viewer, live: Bool) -> HTML {
        el("header", .class("top")) {
            el("nav", Attribute("aria-label", "Main")) {
                el("a", .class("brand"), .href("/")) { "KITT" }
                el("ul", .class("nav-links")) {
                    for item in Section.allCases where item != .profiles || viewer.features.engineProfiles {
                        el("li") {
                            element("a",
                                item == section ? [.href(item.path), Attribute("aria-current", "page")] : [.href(item.path)],
                                HTML(text: item.title))
                        }
                    }
                }
                el("div", .class("nav-end")) {
                    if live { el("span", .id("live-indicator"), .class("live"), Attribute("aria-live", "polite")) { "○ connecting" } }
                    signInOut(viewer)
                }
            }
        }
    }

    static func signInOut(_ viewer: Viewer) -> HTML {
        if viewer.signedIn {
            return el("form", Attribute("data-api", "/ui/signout"), Attribute("data-then", "/")) {
                el("button", .type("submit"), .class("secondary")) { "Sign out" }
            }
        }
        return el("a", .class("button secondary"), .href("/signin")) { "Sign in" }
    }
}
