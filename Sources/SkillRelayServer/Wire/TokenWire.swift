import Foundation
import Hummingbird
import SkillRelayDomain

/// A token as listed: never its secret.
struct TokenResponse: ResponseEncodable {
    var id: String
    var employee: String?
    var bot: String?
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?

    init(_ token: APIToken) {
        id = token.id
        switch token.owner {
        case .employee(let handle): employee = handle
        case .bot(let name): bot = name
        }
        createdAt = token.createdAt
        revokedAt = token.revokedAt
        lastUsedAt = token.lastUsedAt
    }
}

/// A token just issued: the only time its secret is shown.
struct IssuedTokenResponse: ResponseEncodable {
    var token: TokenResponse
    var secret: String
}

/// `POST /v1/tokens`: exactly one of `employee` and `bot`.
struct CreateTokenRequest: Decodable {
    var employee: String?
    var bot: String?

    func owner() throws -> APIToken.Owner {
        switch (employee, bot) {
        case (let handle?, nil): return .employee(handle)
        case (nil, let name?): return .bot(name)
        default: throw APIError.badRequest("Give exactly one of 'employee' and 'bot'.", code: "invalid_field")
        }
    }
}
