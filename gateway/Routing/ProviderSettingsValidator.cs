using Gateway.Hosting;
using Gateway.Secrets;
using Gateway.Transforms.Headers;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Vendors;

namespace Gateway.Routing;

/// <summary>The providers (<c>Gateway:Providers</c>): each one's vendor, key references, key selection and headers.</summary>
internal static class ProviderSettingsValidator
{
    public static Dictionary<string, ProviderSettings> Providers(Dictionary<string, ProviderOptions> options, VendorCatalog vendors, IReadOnlySet<string> flags, List<string> errors)
    {
        var providers = new Dictionary<string, ProviderSettings>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, provider) in options)
        {
            var vendorName = provider.Vendor ?? name;
            if (!vendors.TryGet(vendorName, out var vendor))
            {
                errors.Add($"Gateway:Providers:{name}:Vendor '{vendorName}' is not a known vendor (known: {string.Join(", ", vendors.Names)}).");
                continue;
            }

            var setting = provider.ApiKeys is null ? $"Gateway:Providers:{name}:ApiKey" : $"Gateway:Providers:{name}:ApiKeys";
            string[] texts = provider.ApiKeys ?? [provider.ApiKey ?? $"env:{name.ToUpperInvariant().Replace('-', '_')}_API_KEY"];
            var references = new List<SecretReference>();
            foreach (var text in texts)
            {
                if (SecretReference.TryParse(text, out var reference, out var error))
                {
                    references.Add(reference!);
                }
                else
                {
                    errors.Add($"{setting} {error}.");
                }
            }

            if (texts.Length == 0)
            {
                errors.Add($"{setting} is empty: name at least one key reference.");
            }

            if (provider.OffFlag is { } off && !flags.Contains(off))
            {
                errors.Add($"Gateway:Providers:{name}:OffFlag names flag '{off}', which is not defined under FeatureManagement.");
            }

            var selection = ConfigEnum<KeySelection>.Parse(provider.KeySelection, $"Gateway:Providers:{name}:KeySelection", errors);
            var headers = Headers(provider.Headers, $"Gateway:Providers:{name}:Headers", errors);
            if (references.Count == texts.Length && texts.Length > 0)
            {
                providers[name] = new ProviderSettings(new ProviderBinding(name, vendor), references, selection) { Headers = headers, OffFlag = provider.OffFlag };
            }
        }

        return providers;
    }

    // Header names must be tokens and values printable ASCII (what an HTTP client can send); credentials have their own settings.
    public static List<KeyValuePair<string, string>> Headers(Dictionary<string, string> headers, string setting, List<string> errors)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                errors.Add($"{setting}:{name}: '{name}' is not a header name.");
            }
            else if (value is null || value.Any(c => c is < ' ' or > '~'))
            {
                errors.Add($"{setting}:{name} must be printable ASCII.");
            }
            else if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("x-api-key", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith(GatewayHeaders.InternalPrefix, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{setting}:{name}: keys go in ApiKey/ApiKeys (secret references) and x-gateway-* headers are the gateway's own; set other headers here.");
            }
            else
            {
                result.Add(new(name, value));
            }
        }

        return result;
    }
}
