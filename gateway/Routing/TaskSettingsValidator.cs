using System.Collections.Frozen;
using Gateway.Hosting;
using Gateway.Transforms.Contracts;
using Gateway.Transforms.Schema;
using Gateway.Transforms.Tasks;
using Gateway.Transforms.Vendors;

namespace Gateway.Routing;

/// <summary>
/// The normalized endpoints' settings: model aliases (<c>Gateway:Models</c>), the price table (<c>Gateway:Prices</c>),
/// prompt templates (<c>Gateway:Prompts</c>) and defaults (<c>Gateway:Tasks</c>), every fault added to the list.
/// </summary>
internal static class TaskSettingsValidator
{
    public static TaskPrompts Prompts(PromptOptions prompts, TaskOptions tasks, List<string> errors)
    {
        var formats = new Dictionary<string, string>(PromptOptions.DefaultFormats, StringComparer.Ordinal);
        foreach (var (format, instruction) in prompts.Formats)
        {
            if (!formats.ContainsKey(format))
            {
                errors.Add($"Gateway:Prompts:Formats:{format} is not a format (formats: {string.Join(", ", PromptOptions.DefaultFormats.Keys)}).");
            }

            formats[format] = instruction;
        }

        if (string.IsNullOrWhiteSpace(prompts.SummarizeInstruction))
        {
            errors.Add("Gateway:Prompts:SummarizeInstruction must not be empty.");
        }

        if (tasks.DefaultMaxTokens is < 1 or > SchemaLimits.MaxOutputTokens)
        {
            errors.Add($"Gateway:Tasks:DefaultMaxTokens must be from 1 to {SchemaLimits.MaxOutputTokens} (was {tasks.DefaultMaxTokens}).");
        }

        return new TaskPrompts(prompts.SummarizeInstruction, formats.ToFrozenDictionary(StringComparer.Ordinal), tasks.DefaultMaxTokens);
    }

    public static Dictionary<string, ModelRoute> Models(
        Dictionary<string, ModelOptions> options, Dictionary<string, ProviderSettings> providers, IReadOnlySet<string> flags, List<string> errors)
    {
        var models = new Dictionary<string, ModelRoute>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, model) in options)
        {
            var prefix = $"Gateway:Models:{alias}";
            if (alias.Contains('/'))
            {
                errors.Add($"{prefix}: an alias must not contain '/' (that spelling means provider/model).");
            }

            if (string.IsNullOrWhiteSpace(model.Model))
            {
                errors.Add($"{prefix}:Model must name the vendor's model id.");
            }

            if (model.Provider is null || !providers.TryGetValue(model.Provider, out var provider))
            {
                errors.Add($"{prefix}:Provider '{model.Provider}' is not under Gateway:Providers (known: {string.Join(", ", providers.Keys)}).");
                continue;
            }

            var fields = new List<KeyValuePair<string, string>>();
            foreach (var (name, value) in model.RequestFields)
            {
                if (VendorJson.ReservedFields.Contains(name))
                {
                    errors.Add($"{prefix}:RequestFields:{name}: the gateway writes '{name}' itself (reserved: {string.Join(", ", VendorJson.ReservedFields)}).");
                    continue;
                }

                fields.Add(new(name, JsonValue(value)));
            }

            if (!string.IsNullOrWhiteSpace(model.Model))
            {
                models[alias] = new ModelRoute(provider, model.Model) { AcceptsTemperature = model.AcceptsTemperature, RequestFields = fields };
            }
        }

        // Fallbacks last, once every alias is known: an alias's own target (not its fallbacks), or provider/model.
        foreach (var (alias, model) in options)
        {
            if (!models.TryGetValue(alias, out var route) || model.Fallbacks.Length == 0)
            {
                continue;
            }

            var fallbacks = new List<ModelRoute>();
            foreach (var fallback in model.Fallbacks)
            {
                var slash = fallback.IndexOf('/');
                if (slash < 0 ? models.TryGetValue(fallback, out var target) : TryProviderModel(fallback, slash, providers, out target))
                {
                    if (string.Equals(target!.Provider.Binding.Name, route.Provider.Binding.Name, StringComparison.OrdinalIgnoreCase))
                    {
                        errors.Add($"Gateway:Models:{alias}:Fallbacks: '{fallback}' is served by the alias's own provider '{route.Provider.Binding.Name}', whose breaker it would share.");
                        continue;
                    }

                    fallbacks.Add(target with { Fallbacks = [] });
                }
                else
                {
                    errors.Add($"Gateway:Models:{alias}:Fallbacks: '{fallback}' is neither an alias (known: {string.Join(", ", models.Keys)}) nor provider/model of a configured provider.");
                }
            }

            models[alias] = route with { Fallbacks = fallbacks };
        }

        foreach (var (alias, model) in options)
        {
            if (!models.TryGetValue(alias, out var route) || model.Switches.Length == 0)
            {
                continue;
            }

            var switches = new List<(string, ModelRoute)>();
            for (var i = 0; i < model.Switches.Length; i++)
            {
                var (flag, to) = (model.Switches[i].Flag, model.Switches[i].To);
                var setting = $"Gateway:Models:{alias}:Switches:{i}";
                if (string.IsNullOrWhiteSpace(flag) || !flags.Contains(flag))
                {
                    errors.Add($"{setting}:Flag '{flag}' is not a flag defined under FeatureManagement.");
                    continue;
                }

                var slash = to?.IndexOf('/') ?? -1;
                if (to is null || !(slash < 0 ? models.TryGetValue(to, out var target) : TryProviderModel(to, slash, providers, out target)))
                {
                    errors.Add($"{setting}:To '{to}' is neither an alias (known: {string.Join(", ", models.Keys)}) nor provider/model of a configured provider.");
                    continue;
                }

                // Switched calls keep the alias's fallbacks, bar the provider they now go to.
                var switchedTo = target!.Provider.Binding.Name;
                switches.Add((flag, target with
                {
                    Switches = [],
                    Fallbacks = [.. route.Fallbacks.Where(f => !string.Equals(f.Provider.Binding.Name, switchedTo, StringComparison.OrdinalIgnoreCase))],
                }));
            }

            models[alias] = models[alias] with { Switches = switches };
        }

        if (options.Count > 0 && !options.ContainsKey(ModelRoute.DefaultAlias))
        {
            errors.Add($"Gateway:Models:{ModelRoute.DefaultAlias} is required: it serves requests that name no model.");
        }

        return models;
    }

    private static bool TryProviderModel(string text, int slash, Dictionary<string, ProviderSettings> providers, out ModelRoute? route)
    {
        route = providers.TryGetValue(text[..slash], out var provider) && slash < text.Length - 1 ? new ModelRoute(provider, text[(slash + 1)..]) : null;
        return route is not null;
    }

    // A configuration value as a JSON value: a number or literal as such, anything else as a string.
    private static string JsonValue(string? value)
    {
        try
        {
            using var parsed = System.Text.Json.JsonDocument.Parse(value ?? "");
            if (parsed.RootElement.ValueKind is System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True
                or System.Text.Json.JsonValueKind.False or System.Text.Json.JsonValueKind.Null)
            {
                return parsed.RootElement.GetRawText();
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return System.Text.Json.JsonSerializer.Serialize(value ?? "");
    }

    public static Dictionary<string, ModelPrice> Prices(Dictionary<string, PriceOptions> options, List<string> errors)
    {
        var prices = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in options)
        {
            if (price.InputPerMillionUsd < 0 || price.OutputPerMillionUsd < 0)
            {
                errors.Add($"Gateway:Prices:{model}: prices must not be negative.");
                continue;
            }

            prices[model] = new ModelPrice(price.InputPerMillionUsd, price.OutputPerMillionUsd);
        }

        return prices;
    }
}
