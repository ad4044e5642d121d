namespace Gateway.Auth;

/// <summary><c>keys new --client ID</c>: prints a new client key once, and the lines to put in configuration.</summary>
public static class KeysCommand
{
    /// <summary>True when the arguments ask for this command rather than for the server.</summary>
    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "keys";

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var clientIndex = Array.IndexOf(args, "--client");
        if (args is not ["keys", "new", ..] || clientIndex < 0 || clientIndex + 1 >= args.Length || !IsValidClientId(args[clientIndex + 1]))
        {
            error.WriteLine("usage: keys new --client <client-id>   (client id: letters, digits, '-', '_', '.')");
            return 2;
        }

        var client = args[clientIndex + 1];
        var key = ClientKeyHasher.NewKey();
        var hash = ClientKeyHasher.HashHex(key);
        output.WriteLine($"Client key for '{client}' (shown once; give it to the client, store it nowhere else):");
        output.WriteLine();
        output.WriteLine($"  {key}");
        output.WriteLine();
        output.WriteLine("Add the client to configuration in one of these forms (each works as printed):");
        output.WriteLine();
        output.WriteLine("  In a JSON file of config/ (merged with the others), or its \"Gateway\" object:");
        output.WriteLine($"    {{\"Gateway\": {{\"Clients\": {{\"{client}\": {{\"KeySha256\": \"{hash}\"}}}}}}}}");
        output.WriteLine();
        output.WriteLine("  On the command line:");
        output.WriteLine($"    dotnet run --project gateway -- --Gateway:Clients:{client}:KeySha256={hash}");
        output.WriteLine();
        output.WriteLine("  As an environment variable (bash cannot 'export' a name with '-' or '.'; env passes any, and so do Kubernetes and systemd):");
        output.WriteLine($"    env 'Gateway__Clients__{client}__KeySha256={hash}' dotnet run --project gateway");
        return 0;
    }

    private static bool IsValidClientId(string id)
        => id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
