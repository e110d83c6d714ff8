import { useState, type FormEvent } from "react";
import { signIn } from "../api";
import { ErrorNote, Field } from "../ui";

export function Login() {
	const [username, setUsername] = useState("");
	const [password, setPassword] = useState("");
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<unknown>(null);
	const submit = async (e: FormEvent) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			await signIn(username.trim(), password);
		} catch (err) {
			setError(err);
			setBusy(false);
		}
	};
	return (
		<main className="login">
			<form onSubmit={submit} aria-labelledby="login-title">
				<h1 id="login-title">Sign in to Rollcall</h1>
				<Field label="Email">{id => <input id={id} type="email" autoComplete="username" required value={username} onChange={e => setUsername(e.target.value)} autoFocus />}</Field>
				<Field label="Password">{id => <input id={id} type="password" autoComplete="current-password" required value={password} onChange={e => setPassword(e.target.value)} />}</Field>
				<ErrorNote error={error} />
				<button type="submit" className="primary" disabled={busy}>
					{busy ? "Signing in…" : "Sign in"}
				</button>
			</form>
		</main>
	);
}
