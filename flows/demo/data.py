"""The demo's data: its cases, and the texts and delays the replay draws on.

Data only; `flows.demo.replay` turns it into history.
"""

# The preset flow's statuses, in their forward order.
FORWARD = ["nouveau", "qualifie", "rendez_vous", "devis_envoye", "negociation", "signe"]

# company, title, contact, amount (€ HT), source
DEMO_CASES = [
    (
        "Boulangerie Martin",
        "Rénovation de la boutique",
        "Claire Martin",
        18500,
        "Recommandation",
    ),
    (
        "Cabinet Dufresne Avocats",
        "Aménagement de l'accueil",
        "Paul Dufresne",
        9200,
        "Site web",
    ),
    ("Garage des Deux Ponts", "Extension de l'atelier", "Karim Benali", 42000, "Salon"),
    (
        "Pharmacie du Marché",
        "Nouveau comptoir et vitrines",
        "Hélène Roux",
        15600,
        "Site web",
    ),
    (
        "Hôtel Les Tilleuls",
        "Réfection de 12 chambres",
        "Jean Morel",
        96000,
        "Recommandation",
    ),
    (
        "Crèche Les Petits Pas",
        "Mise aux normes accessibilité",
        "Sophie Girard",
        23800,
        "Appel entrant",
    ),
    ("Atelier Lumière", "Éclairage du showroom", "Nadia Chevalier", 7400, "Site web"),
    (
        "Clinique vétérinaire Saint-Roch",
        "Salle d'attente et cabinets",
        "Marc Fontaine",
        31200,
        "Salon",
    ),
    (
        "Restaurant Le Comptoir",
        "Cuisine professionnelle",
        "Lucas Perrin",
        54000,
        "Recommandation",
    ),
    (
        "SARL Transports Lemoine",
        "Bureaux du dépôt",
        "Isabelle Lemoine",
        27500,
        "Appel entrant",
    ),
    ("Librairie Page 42", "Mezzanine et rayonnages", "Thomas Blanc", 12900, "Site web"),
    ("Cave Saint-Vincent", "Climatisation de la cave", "Émilie Garnier", 8800, "Salon"),
    (
        "Agence Horizon Immobilier",
        "Vitrine et enseigne",
        "Julien Faure",
        6300,
        "Site web",
    ),
    (
        "Maison de santé des Lilas",
        "Cloisonnement de 4 cabinets",
        "Dr Anne Mercier",
        38700,
        "Recommandation",
    ),
    ("Fromagerie Delorme", "Chambre froide", "Pierre Delorme", 21400, "Appel entrant"),
    (
        "École de musique Allegro",
        "Isolation phonique",
        "Camille André",
        19800,
        "Site web",
    ),
    (
        "Coiffure Élégance",
        "Rénovation du salon",
        "Laura Michel",
        11200,
        "Réseaux sociaux",
    ),
    ("Menuiserie Vidal", "Bureau d'étude", "Antoine Vidal", 14500, "Salon"),
    ("Opticien Regard", "Agencement boutique", "Sarah Lambert", 16700, "Site web"),
    (
        "Brasserie du Port",
        "Terrasse couverte",
        "Nicolas Bonnet",
        33300,
        "Recommandation",
    ),
    (
        "Imprimerie Rapide",
        "Atelier de production",
        "Valérie Rousseau",
        45800,
        "Appel entrant",
    ),
    (
        "Cabinet d'architectes Forme",
        "Open space",
        "Mathieu Gauthier",
        29900,
        "Réseaux sociaux",
    ),
    ("Auto-école Feu Vert", "Salle de code", "Sandrine Robin", 5600, "Site web"),
    (
        "Boucherie Charcuterie Pons",
        "Laboratoire",
        "Olivier Pons",
        26400,
        "Appel entrant",
    ),
    (
        "Yoga Studio Prana",
        "Salle de pratique",
        "Inès Marchand",
        13100,
        "Réseaux sociaux",
    ),
    (
        "Salon de thé Camomille",
        "Réaménagement complet",
        "Chloé Masson",
        22700,
        "Site web",
    ),
    (
        "Entreprise Berger Plomberie",
        "Dépôt et vestiaires",
        "Franck Berger",
        17900,
        "Salon",
    ),
    (
        "Cabinet comptable Duval",
        "Salle de réunion",
        "Martine Duval",
        9900,
        "Recommandation",
    ),
    (
        "Fleuriste L'Atelier Vert",
        "Chambre froide et vitrine",
        "Julie Henry",
        12300,
        "Site web",
    ),
    (
        "Centre de kinésithérapie Actif",
        "Plateau technique",
        "David Lefebvre",
        36200,
        "Appel entrant",
    ),
    (
        "Épicerie fine Saveurs",
        "Mobilier et caisse",
        "Manon Caron",
        10400,
        "Réseaux sociaux",
    ),
    (
        "Hôtel-restaurant La Bergerie",
        "Salle de séminaire",
        "Bernard Noël",
        61500,
        "Recommandation",
    ),
    (
        "Laboratoire dentaire Sourire",
        "Salle blanche",
        "Aurélie Schmitt",
        47300,
        "Salon",
    ),
    ("Garage Moto Passion", "Showroom", "Kevin Leroy", 19200, "Site web"),
    (
        "Association Sport Pour Tous",
        "Vestiaires du gymnase",
        "Patrick Colin",
        28600,
        "Appel entrant",
    ),
    (
        "Agence de voyages Escale",
        "Agence en centre-ville",
        "Nathalie Barbier",
        14800,
        "Site web",
    ),
    (
        "Bijouterie Carat",
        "Vitrines sécurisées",
        "Sylvie Arnaud",
        24100,
        "Recommandation",
    ),
    (
        "Micro-crèche Les Lucioles",
        "Aménagement intérieur",
        "Élodie Renaud",
        32400,
        "Réseaux sociaux",
    ),
    (
        "Cabinet infirmier Santé+",
        "Local professionnel",
        "Romain Giraud",
        8100,
        "Appel entrant",
    ),
    (
        "Traiteur Les Saveurs d'Antan",
        "Cuisine de production",
        "Gérard Picard",
        58900,
        "Salon",
    ),
    (
        "Start-up Numérique Alpha",
        "Bureaux partagés",
        "Yanis Moreau",
        21000,
        "Lead form",
    ),
]

# Where each demo case ends, by index modulo the list length.
DEMO_ENDINGS = (
    ["nouveau"] * 7
    + ["qualifie"] * 7
    + ["rendez_vous"] * 6
    + ["devis_envoye"] * 6
    + ["negociation"] * 4
    + ["signe"] * 6
    + ["perdu"] * 5
)

LOST_REASONS = [
    "Budget reporté à l'an prochain",
    "A choisi un concurrent moins cher",
    "Projet abandonné par le client",
    "Délais incompatibles avec leur ouverture",
    "Injoignable après trois relances",
]

NEXT_ACTIONS = [
    "Rappeler pour qualifier le besoin",
    "Envoyer la plaquette et les références",
    "Confirmer la date du rendez-vous",
    "Préparer le chiffrage",
    "Relancer sur le devis",
    "Répondre aux questions sur les délais",
    "Proposer une variante moins chère",
    "Caler la signature",
]

COMMENTS = [
    "Le client préfère être appelé le matin.",
    "Visite faite : accès difficile pour la livraison, à prévoir dans le chiffrage.",
    "Ils comparent avec deux autres entreprises.",
    "Le gérant valide seul au-dessus de 10 000 €.",
    "Demande un échéancier en trois fois.",
]

# Quotes do not exist yet in Pilote, so steps that need one are made by the
# manager with a justified override, as a team importing its history would.
OVERRIDE_REASON = "Devis envoyé hors Pilote (reprise de l'historique)"

# The SLA days of the preset's open statuses (flows.presets).
STATUS_SLA = {
    "nouveau": 2,
    "qualifie": 5,
    "rendez_vous": 7,
    "devis_envoye": 10,
    "negociation": 10,
}

WAIT_REASONS = [
    "Attend l'accord de son associé",
    "Le client revient de congés",
    "Attend le plan de l'architecte",
    "Budget validé en conseil le mois prochain",
]
