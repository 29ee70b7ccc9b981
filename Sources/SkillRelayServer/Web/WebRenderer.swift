import Foundation
import HTTPTypes
import Hummingbird
import SkillRelayDomain
import SkillRelayWeb

/// Which page of the navigation is open.
enum WebSection {
    case none, ask, inbox, team, admin
}

/// The navigation and sign-out form every signed-in page shows.
struct Nav {
    var name: String
    var handle: String
    var csrf: String
    var isManager: Bool
    var isAdmin: Bool
    var onAsk: Bool
    var onInbox: Bool
    var onTeam: Bool
    var onAdmin: Bool

    init(_ user: WebUser, section: WebSection) {
        name = user.person.name
        handle = user.caller.handle ?? ""
        csrf = user.csrf
        isManager = user.caller.isManager
        isAdmin = user.caller.isAdmin
        onAsk = section == .ask
        onInbox = section == .inbox
        onTeam = section == .team
        onAdmin = section == .admin
    }
}

/// What every template gets: the layout's fields and the page's own under `content`.
struct Page<Content> {
    var title: String
    var nav: Nav?
    var notice: String?
    var content: Content
}

/// The error page's fields.
struct ErrorContent {
    var status: Int
    var heading: String
    var message: String
    var backLink: String
    var backText: String
}

/// Fills templates into HTML responses.
enum WebRenderer {
    /// Headers every page carries: nothing is loaded from elsewhere, framed, sniffed, cached, or sent on as a referrer
    /// (a sign-in link's secret is in its URL).
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "no-referrer",
        .xFrameOptions: "DENY",
    ]

    /// A page for the signed-in person (or nobody), with the notice their session kept, which is shown once.
    static func page<Content>(
        _ template: String, title: String, content: Content, context: WebRequestContext, section: WebSection = .none,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        let notice: String? = context.sessions.withLockedSession { session in
            guard let notice = session?.notice else { return nil }
            session?.notice = nil
            return notice
        }
        let page = Page(title: title, nav: context.identity.map { Nav($0, section: section) }, notice: notice, content: content)
        return html(try templates().render(page, template: template), status: status)
    }

    /// The error page.
    static func errorPage(
        status: HTTPResponse.Status, message: String, user: WebUser?, headers: HTTPFields = [:], back: (link: String, text: String)? = nil
    ) throws -> Response {
        let heading =
            switch status {
            case .notFound: "Not found"
            case .forbidden: "Not for you"
            case .unauthorized: "Please sign in"
            case .gone: "This link no longer works"
            case .tooManyRequests: "Too many requests"
            case .serviceUnavailable: "Busy for a moment"
            case .internalServerError: "Something went wrong"
            default: status.code < 500 ? "That did not work" : "Something went wrong"
            }
        let back = back ?? (user == nil ? ("/", "Go to the start page") : ("/ask", "Back to asking"))
        let content = ErrorContent(status: status.code, heading: heading, message: message, backLink: back.link, backText: back.text)
        let page = Page(title: heading, nav: user.map { Nav($0, section: .none) }, notice: nil, content: content)
        var response = html(try templates().render(page, template: "error"), status: status)
        for field in headers { response.headers.append(field) }
        return response
    }

    /// A redirect after a form, so reloading the next page does not post again.
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    private static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: pageHeaders, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func templates() throws -> WebTemplates {
        try WebTemplates.bundled.get()
    }

    /// A time as people read it on the page, in UTC.
    static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
