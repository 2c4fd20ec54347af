/// The sign-in form: the admin pastes the admin token once.
enum SignInPage {
    static func render(signedIn: Bool, authOff: Bool) -> HTML {
        el("div", .class("panel")) {
            el("h1") { "Sign in" }
            if signedIn {
                el("p") { "You are signed in. " ; el("a", .href("/")) { "Go to the dashboard" } }
            } else {
                el("p", .class("muted")) {
                    if authOff {
                        "This server runs without a token (--insecure): sign in with an empty token to make changes."
                    } else {
                        "Paste the admin token (printed when kitt web starts, and kept in the data directory). "
                        "Reading pages needs no sign-in; every change does."
                    }
                }
                el("form", .class("stack"), .id("signin-form"), Attribute("data-api", "/ui/signin"),
                    Attribute("data-then", "/"), Attribute("data-done", "Signed in.")) {
                    UI.field("Admin token", id: "token", errorNames: "token") {
                        void("input", .type("password"), .id("token"), .name("token"),
                            Attribute("autocomplete", "current-password"), .flag("autofocus"))
                    }
                    UI.formFooter { el("button", .type("submit")) { "Sign in" } }
                }
            }
        }
    }
}
