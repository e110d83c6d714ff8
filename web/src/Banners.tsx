/** Banner messages active now (an administrator's announcements), above every page; a new one arrives on the notifications channel. */
import { get } from "./api";
import { useChannelTick } from "./live";
import { useSession } from "./session";
import { useLoad } from "./ui";

interface Banner {
	id: string;
	message: string;
	level: string;
}

export function Banners() {
	const s = useSession();
	const on = s.has("GET /services/banner-messages");
	const tick = useChannelTick(on ? "notifications" : null, 500);
	const list = useLoad(sig => (on ? get<Banner[]>("/services/banner-messages", undefined, sig).then(a => a.data) : Promise.resolve([])), [on, tick]);
	const banners = list.data ?? [];
	if (banners.length === 0) return null;
	return (
		<div className="banners">
			{banners.map(b => (
				<p key={b.id} role="status" className={`banner banner-${b.level}`}>
					{b.message}
				</p>
			))}
		</div>
	);
}
