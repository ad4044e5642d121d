using System.Security.Cryptography;
using Gateway.Auth;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;

namespace Gateway.Errors;

/// <summary><c>Gateway:Escalation</c> as written.</summary>
public sealed class EscalationOptions
{
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(1);

    /// <summary>How long a problem's escalation block stays available to <c>requests show</c>. Default one hour.</summary>
    public TimeSpan Retention { get; init; } = DefaultRetention;
}

/// <summary><c>Gateway:Admin</c> as written.</summary>
public sealed class AdminOptions
{
    /// <summary>Lowercase hex SHA-256 of the operations API's key (<c>keys new --client admin</c> makes one); absent: the API is off.</summary>
    public string? KeySha256 { get; init; }

    /// <summary>The retention and the admin key's hash, or the defaults with the errors added.</summary>
    public static (TimeSpan Retention, byte[]? KeyHash) Validate(EscalationOptions escalation, AdminOptions admin, List<string> errors)
    {
        var retention = escalation.Retention;
        if (retention <= TimeSpan.Zero || retention > TimeSpan.FromDays(7))
        {
            errors.Add($"Gateway:Escalation:Retention must be above 0 and at most 7.00:00:00 (was {retention}).");
            retention = EscalationOptions.DefaultRetention;
        }

        byte[]? hash = null;
        if (admin.KeySha256 is { } hex)
        {
            if (hex.Length == 64 && hex.All(char.IsAsciiHexDigit))
            {
                hash = Convert.FromHexString(hex);
            }
            else
            {
                errors.Add("Gateway:Admin:KeySha256 must be 64 hex digits (the SHA-256 of the admin key).");
            }
        }

        return (retention, hash);
    }
}

/// <summary>
/// The operations API, behind its own key (<c>Authorization: Bearer</c>, compared by hash in constant time), off
/// unless <c>Gateway:Admin:KeySha256</c> is set: <c>GET /admin/requests/{id}</c> answers the escalation block of a
/// request this replica answered with a problem, as text. Its calls are traffic like any other: each has an access line.
/// </summary>
public static class AdminEndpoints
{
    public const string RequestsPath = "/admin/requests/{id}";

    public static void MapGatewayAdmin(this IEndpointRouteBuilder endpoints)
        => endpoints.MapGet(RequestsPath, (HttpContext context, string id, GatewaySettingsMonitor settings, EscalationStore store, ProblemWriter problems) =>
            {
                if (settings.Current.AdminKeyHash is not { } expected)
                {
                    return problems.WriteAsync(context, ErrorCodes.NotFound, "The operations API is off: set Gateway:Admin:KeySha256 to turn it on.");
                }

                var presented = context.Request.Headers.Authorization.ToString();
                if (!presented.StartsWith("Bearer ", StringComparison.Ordinal)
                    || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented[7..].Trim())), expected))
                {
                    return problems.WriteAsync(context, ErrorCodes.Unauthenticated, "Present the operations API's key as 'Authorization: Bearer <key>'.");
                }

                if (store.Find(id) is not { } block)
                {
                    return problems.WriteAsync(context, ErrorCodes.NotFound,
                        $"No problem answered under request id '{id}' is kept on this replica (kept for {settings.Current.EscalationRetention}).");
                }

                context.Response.ContentType = "text/plain; charset=utf-8";
                context.Response.Headers.CacheControl = "no-store";
                return context.Response.WriteAsync(block + "\n");
            });
}
