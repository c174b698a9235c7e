"""Fixed lists of plausible Chilean street names for the demo addresses. The names are
assigned to generated streets at random: no address in the demo data is real."""

STREETS = (
    "Av. Barros Luco", "Av. Centenario", "Av. Chile", "Av. Providencia", "Av. La Playa",
    "Av. Angamos", "Av. Argentina", "Av. Las Dunas", "Av. Costanera", "Av. Ecuador",
    "Pedro Montt", "21 de Mayo", "Arturo Prat", "Bernardo O'Higgins", "José Miguel Carrera",
    "Manuel Rodríguez", "Gabriela Mistral", "Pablo Neruda", "Vicente Huidobro",
    "Violeta Parra", "Los Aromos", "Los Pinos", "Las Acacias", "El Bosque", "Los Olmos",
    "Los Boldos", "Los Peumos", "Los Quillayes", "Los Maitenes", "Los Espinos", "Lautaro",
    "Caupolicán", "Colo Colo", "Galvarino", "Tucapel", "Esmeralda", "Covadonga",
    "Blanco Encalada", "Lord Cochrane", "Almirante Latorre", "Condell", "Serrano",
    "Riquelme", "Aldea", "Baquedano", "San Martín", "Balmaceda", "Portales", "Freire",
    "Camilo Henríquez", "Andrés Bello", "Diego Portales", "Santa María", "Yungay",
    "Independencia", "Libertad", "Maipú", "Chacabuco", "Rancagua", "Valdivia",
    "Antofagasta", "Iquique", "Coquimbo", "Talca", "Chillán", "Temuco", "Osorno",
    "Llanquihue", "Punta Arenas", "El Litoral", "Las Gaviotas", "Los Pescadores",
    "Los Navegantes", "La Marina", "El Faro", "Las Golondrinas", "Los Cóndores",
    "Los Copihues", "Las Azucenas", "Los Claveles", "Las Camelias", "Los Jazmines",
    "Las Hortensias", "Los Alerces", "Los Robles", "Los Coigües", "Los Canelos",
    "El Molino", "La Estación", "El Tranque", "Santa Teresa", "San Pedro", "San José",
    "Santa Rosa", "Los Carrera", "Ignacio Carrera Pinto", "Luis Cruz Martínez",
)
"""Street names (the prefix "Av." marks avenues)."""

RURAL_ROADS = (
    "Leyda", "Malvilla", "Cuncumén", "El Asilo", "San Juan", "Lo Gallardo", "La Floresta",
    "El Convento", "Las Cruces", "El Sauce", "La Palma", "Los Quillayes", "El Membrillo",
    "Santa Julia", "Las Pataguas", "El Peumo", "La Parva", "El Carmen", "Las Tórtolas",
)
"""Names of rural roads (caminos vecinales)."""
